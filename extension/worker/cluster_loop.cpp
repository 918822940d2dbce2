// Cluster mode. Until the etcd-driven loop lands this keeps the node fenced (the deadline stays
// 0: fail closed) and publishes a status that says why.
#include <string>

#include <nlohmann/json.hpp>

#include "pg/clock.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/cluster_loop.hpp"
#include "worker/local_observation.hpp"
#include "agent/snapshot.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::worker {
namespace {

constexpr const char* kNotYet = "pg_ha worker loop not implemented yet";

void publish_placeholder_status(const pg::Settings& settings) {
  // The standalone rendering with the flag flipped: this node is NOT standalone, only not yet run.
  std::string json = agent::render_standalone_snapshot(settings.node_name, observe_local().observation,
                                                      pg::wall_clock_unix_ms());
  nlohmann::json doc = nlohmann::json::parse(json);
  doc["standalone"] = false;
  doc["node"]["state"] = "starting";
  doc["node"]["reason"] = kNotYet;
  doc["node"]["fenced"] = !doc["node"]["role"].is_string() || doc["node"]["role"] != "replica";
  doc["node"]["fence_reason"] = kNotYet;
  doc["node"]["etcd_error"] = kNotYet;
  pg::shmem::publish_snapshot(doc.dump());
}

}  // namespace

bool run_cluster_loop() {
  pg::shmem::set_standalone(false);
  pg::shmem::publish_deadline(0);
  pg::shmem::set_fence(true, kNotYet);
  // TODO(loop): run the agent here: agent::Agent(settings, etcd_port, local_port).run() with
  // local_port = PgLocalPort (worker/pg_local_port.hpp) and an EtcdPort over pg_ha::etcd's
  // curl-multi engine whose waits use WaitLatchOrSocket and stop on worker_interrupt_pending().
  while (!shutdown_requested()) {
    reload_if_requested();
    publish_placeholder_status(pg::current_settings());
    if (wait_for_work(1000) == WaitResult::PostmasterDied) return false;
  }
  return true;
}

}  // namespace pg_ha::worker
