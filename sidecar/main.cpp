// pg_ha_sidecar: one per node, the parent of its postmaster. See docs/sidecar.md.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bootstrap.hpp"
#include "cluster_view.hpp"
#include "config.hpp"
#include "health.hpp"
#include "http.hpp"
#include "log.hpp"
#include "supervisor.hpp"
#include "common/no_postgres.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

namespace {

// flock on <state_dir>/sidecar.lock: a second sidecar for the same node is refused. The kernel
// drops the lock when we die, so a crash never leaves a stale lock behind.
bool take_lock(const Node& node) {
  std::string path = node.state_file("sidecar.lock");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    log_error("another pg_ha_sidecar already runs for this node (lock " + path + " is held)");
    return false;
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || write(fd, pid.data(), pid.size()) < 0) {
    // The pid is informational only; the lock is what counts.
  }
  return true;   // fd stays open for the life of the process
}

int fail(const std::string& message) {
  log_error(message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  auto config = load_config(std::vector<std::string>(argv + 1, argv + argc), &help);
  if (help) {
    fputs(config_usage().c_str(), stdout);
    return 0;
  }
  if (!config) {
    fprintf(stderr, "pg_ha_sidecar: %s\n%s", config.error().message.c_str(), config_usage().c_str());
    return 2;
  }
  // Before any file is opened: the sidecar runs as os_user, never as root (docs/sidecar.md).
  auto run_as = resolve_run_as(config->os_user);
  if (!run_as) return fail(run_as.error().message);
  if (!config->log_file.empty() && !log_to_file(config->log_file))
    log_warn("cannot open log_file " + config->log_file + ": logging to stderr");
  install_signal_handlers();
  Node node{*config, *run_as};
  Status dir = ensure_dir(node.config.state_dir, node.run_as, 0700);
  if (!dir) return fail(dir.error().message);
  if (!take_lock(node)) return 1;
  log_info("pg_ha_sidecar for node " + node.config.name + " of cluster " + node.config.cluster + ", data " +
           node.config.data_dir + ", state " + node.config.state_dir);

  auto store = make_etcd_store(node.config);
  if (!store) return fail("etcd: " + store.error().message);
  ClusterView cluster(**store, node.config);
  cluster.keep_revokes_in(node.state_file(kUnansweredRevokes));

  SupervisorStats stats;
  Health health(node, stats);
  HttpServer http(health);
  std::string host;
  int port = 0;
  split_host_port(node.config.http_listen, &host, &port);
  Status listening = http.start(host, port);
  if (!listening) return fail(listening.error().message);

  std::string cloned_from;
  Status prepared = prepare_data_dir(node, cluster, &cloned_from);
  // etcd unreachable or slow at start-up is not a reason to give up: the node waits for it.
  while (!prepared && !stop_requested() &&
         (prepared.error().kind == ErrorKind::Unavailable || prepared.error().kind == ErrorKind::Timeout)) {
    log_warn("bootstrap waits for etcd: " + prepared.error().message);
    nap_ms(2000);
    prepared = prepare_data_dir(node, cluster, &cloned_from);
  }
  if (!prepared) {
    http.stop();
    if (prepared.error().kind == ErrorKind::Interrupted) return 0;
    return fail("bootstrap: " + prepared.error().message);
  }
  Supervisor supervisor(node, cluster, stats, cloned_from);
  supervisor.set_config_args(std::vector<std::string>(argv + 1, argv + argc));
  int code = supervisor.run();
  http.stop();
  return code;
}
