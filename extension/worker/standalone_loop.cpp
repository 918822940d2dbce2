#include <string>

#include "pg/clock.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/local_observation.hpp"
#include "agent/snapshot.hpp"
#include "worker/standalone_loop.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::worker {
namespace {

constexpr int64_t kPublishEveryMs = 1000;

void publish_standalone_status(const pg::Settings& settings) {
  std::string json = agent::render_standalone_snapshot(settings.node_name, observe_local().observation,
                                                      pg::wall_clock_unix_ms());
  if (!pg::shmem::publish_snapshot(json)) pg::log_warning("status snapshot too large, not published");
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
