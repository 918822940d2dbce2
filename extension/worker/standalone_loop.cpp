#include <string>

#include "pg/clock.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/local_observation.hpp"
#include "worker/status_snapshot.hpp"
#include "worker/standalone_loop.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::worker {
namespace {

constexpr int64_t kPublishEveryMs = 1000;

void publish_standalone_status(const pg::Settings& settings) {
  SnapshotInput in;
  in.cluster_name = settings.cluster_name;
  in.node = pg::node_config(settings);
  in.local = observe_local(settings.state_dir);
  in.standalone = true;
  in.now_unix_ms = pg::wall_clock_unix_ms();
  if (!pg::shmem::publish_snapshot(encode_snapshot(in))) pg::log_warning("status snapshot too large, not published");
}

}  // namespace

bool run_standalone_loop() {
  pg::shmem::set_standalone(true);
  pg::shmem::set_fence(false, "");
  pg::log_info("worker started: standalone (pg_ha.etcd_endpoints is empty), no fencing");
  while (!shutdown_requested()) {
    reload_if_requested();
    publish_standalone_status(pg::current_settings());
    if (wait_for_work(kPublishEveryMs) == WaitResult::PostmasterDied) return false;
  }
  return true;
}

}  // namespace pg_ha::worker
