#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/sidecar_channel.hpp"
#include "worker/atomic_file.hpp"
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

Status apply_auto_conf(const std::string& state_dir, const AutoConf& wanted, bool* changed) {
  *changed = false;
  if (read_auto_conf(state_dir) == wanted) return ok_status();
  Status written = write_auto_conf(state_dir, wanted);
  if (!written.ok()) return written;
  *changed = true;
  return reload_postgres();
}

Status write_sidecar_request(const std::string& state_dir, const core::SidecarRequest& request) {
  if (state_dir.empty()) return make_error(ErrorKind::Invalid, "pg_ha.state_dir is not set");
  return write_file_atomically(state_dir + "/" + core::kSidecarRequestFile, core::encode_sidecar_request(request));
}

}  // namespace pg_ha::worker
