// Cluster mode. Until the etcd-driven loop lands this keeps the node fenced (the deadline stays
// 0: fail closed) and publishes a status that says why.
#include <string>

#include "pg/clock.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/cluster_loop.hpp"
#include "worker/local_observation.hpp"
#include "worker/status_snapshot.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::worker {
namespace {

constexpr const char* kNotYet = "pg_ha worker loop not implemented yet";

void publish_placeholder_status(const pg::Settings& settings) {
  SnapshotInput in;
  in.cluster_name = settings.cluster_name;
  in.node = pg::node_config(settings);
  in.local = observe_local(settings.state_dir);
  in.fenced = !in.local.observation.in_recovery;
  in.fence_reason = in.fenced ? kNotYet : "";
  in.etcd_error = kNotYet;
  in.now_unix_ms = pg::wall_clock_unix_ms();
  pg::shmem::publish_snapshot(encode_snapshot(in));
}

}  // namespace

bool run_cluster_loop() {
  pg::shmem::set_standalone(false);
  pg::shmem::publish_deadline(0);
  pg::shmem::set_fence(true, kNotYet);
  // TODO(loop): the etcd-driven loop goes here. Per iteration: reload_if_requested();
  // observe_local(); etcd keep-alive / watch through the curl-multi engine with
  // worker_interrupt_pending(); core::step(); carry out the decision (shmem::publish_deadline and
  // set_fence first, terminate_client_backends() when newly fenced, request_promote(),
  // apply_auto_conf(), write_sidecar_request(), the etcd writes); publish_snapshot(encode_snapshot());
  // wait_for_work(until decision.wake_at_ms). On SIGTERM as primary: release leadership first.
  while (!shutdown_requested()) {
    reload_if_requested();
    publish_placeholder_status(pg::current_settings());
    if (wait_for_work(1000) == WaitResult::PostmasterDied) return false;
  }
  return true;
}

}  // namespace pg_ha::worker
