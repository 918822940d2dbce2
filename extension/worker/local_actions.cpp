#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "worker/local_actions.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "access/xlog.h"  // RecoveryInProgress, PROMOTE_SIGNAL_FILE
#include "miscadmin.h"    // PostmasterPid, DataDir
}

namespace pg_ha::worker {
namespace {

Error os_error(const std::string& what) {
  return make_error(ErrorKind::Internal, what + ": " + strerror(errno));
}

}  // namespace

Status request_promote() {
  if (!RecoveryInProgress()) return ok_status();
  // Crash recovery (no signal file) ends on its own; a promote file would only linger after it.
  if (access(STANDBY_SIGNAL_FILE, F_OK) != 0 && access(RECOVERY_SIGNAL_FILE, F_OK) != 0) return ok_status();
  std::string path = std::string(DataDir) + "/" + PROMOTE_SIGNAL_FILE;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return os_error("could not create \"" + path + "\"");
  close(fd);
  // The postmaster checks for the file on SIGUSR1 and tells the startup process to promote.
  if (kill(PostmasterPid, SIGUSR1) != 0) {
    Error e = os_error("could not signal the postmaster to promote");
    unlink(path.c_str());
    return e;
  }
  return ok_status();
}

Status reload_postgres() {
  if (kill(PostmasterPid, SIGHUP) != 0) return os_error("could not signal the postmaster to reload");
  return ok_status();
}

}  // namespace pg_ha::worker
