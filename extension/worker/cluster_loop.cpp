// Cluster mode: run the agent (extension/agent) with the local PostgreSQL port and the etcd
// client; a node whose settings do not let it run stays fenced, says why, and tries again. The
// gate starts closed (deadline 0) and only the agent opens it, after it holds the leader lease.
// The etcd client's blocking calls check every 20 ms for postmaster death and for a SIGTERM older
// than PgLocalPort::kShutdownGraceMs (2 s: the grace lets the lease release on the way out
// through), so shutdown never waits for a request's full timeout.
#include <memory>
#include <string>

#include "agent/agent.hpp"
#include "agent/snapshot.hpp"
#include "pg/fence.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/cluster_loop.hpp"
#include "worker/pg_local_port.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "agent/etcd_client_port.hpp"
#include "etcd/client.hpp"
#include "etcd/transport.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::worker {
namespace {

void fence_with(const std::string& why) {
  pg::shmem::publish_deadline(0);
  pg::shmem::set_fence(true, why);
}

// How often a node that cannot run tries again with fresh settings without being told to: a
// password or certificate file that appears late (a secret mounted after the server started)
// needs no reload to be noticed.
constexpr int64_t kRetryCannotRunMs = 5000;

enum class Idle { Retry, Stop, PostmasterDied };

// The status of a node that cannot run, so node_status() and the sidecar's /health say why.
void publish_cannot_run(PgLocalPort& local, const pg::Settings& settings, const std::string& why) {
  core::NodeConfig node = pg::node_config(settings);
  core::ClusterConfig config;
  core::Observation obs;
  obs.now_ms = local.monotonic_ms();
  obs.wall_clock_unix_ms = local.wall_clock_unix_ms();
  obs.local = local.observe();
  core::Decision d;
  d.state = core::NodeState::CannotRun;
  d.reason = why + " (retrying every " + std::to_string(kRetryCannotRunMs / 1000) + " s and on reload)";
  d.fence_reason = why;
  local.publish_snapshot(agent::render_snapshot(agent::SnapshotInput{node, config, nullptr, obs, d, false, why}));
}

// A node that cannot run (bad settings, an unreadable password file, no etcd client) stays
// fenced and says why, then tries again: at once after a reload (SIGHUP), else after
// kRetryCannotRunMs. The reason is logged when it changes, not at every try.
Idle idle_fenced(PgLocalPort& local, const pg::Settings& settings, const std::string& why, std::string* logged) {
  fence_with(why);
  if (why != *logged) local.log(agent::LogLevel::Warning, "pg_ha: cannot run: " + why);
  *logged = why;
  publish_cannot_run(local, settings, why);
  int64_t retry_at = local.monotonic_ms() + kRetryCannotRunMs;
  while (!shutdown_requested()) {
    if (reload_if_requested()) return Idle::Retry;
    int64_t left = retry_at - local.monotonic_ms();
    if (left <= 0) return Idle::Retry;
    if (wait_for_work(left) == WaitResult::PostmasterDied) return Idle::PostmasterDied;
  }
  return Idle::Stop;
}

agent::AgentSettings agent_settings(const pg::Settings& s) {
  agent::AgentSettings a;
  a.node = pg::node_config(s);
  a.key_prefix = s.key_prefix;
  a.cluster = s.cluster_name;
  a.state_dir = s.state_dir;
  a.replication.user = s.replication_user;
  a.replication.passfile = s.replication_passfile;
  auto options = agent::parse_conninfo_options(s.replication_conninfo_options);   // checked by the GUC
  if (options.ok()) a.replication.conninfo_options = *options;
  return a;
}

Result<std::unique_ptr<etcd::Client>> make_client(const pg::Settings& s, PgLocalPort& local) {
  Result<etcd::Options> o = pg::etcd_options(s);
  if (!o.ok()) return o.error();
  o->interrupt = [&local] { return local.io_should_abort(); };   // lets the final lease release through
  return etcd::Client::create(std::move(*o));
}

// Runs the agent with these settings until the worker must stop; "" then. Otherwise returns why
// the node cannot run with them.
std::string run_agent(const pg::Settings& settings, PgLocalPort& local) {
  if (Status v = pg::validate_cluster_settings(settings); !v.ok()) return v.error().message;
  if (Status g = etcd::global_init(); !g.ok()) return "cannot use etcd: " + g.error().message;
  auto client = make_client(settings, local);
  if (!client.ok()) return "cannot use etcd: " + client.error().message;
  agent::EtcdClientPort etcd_port(**client);
  agent::Agent agent(agent_settings(settings), etcd_port, local);
  agent.run();
  return "";
}

}  // namespace

bool run_cluster_loop() {
  pg::shmem::set_standalone(false);
  fence_with("pg_ha is starting");
  PgLocalPort local;
  std::string logged;
  for (;;) {
    pg::Settings settings = pg::current_settings();
    std::string why = run_agent(settings, local);
    if (why.empty()) break;
    Idle next = idle_fenced(local, settings, why, &logged);
    if (next == Idle::PostmasterDied) return false;
    if (next == Idle::Stop) break;
    local.log(agent::LogLevel::Debug, "pg_ha: trying again with fresh settings");
  }
  fence_with("pg_ha worker stopped");
  return pg::postmaster_alive();
}

}  // namespace pg_ha::worker
