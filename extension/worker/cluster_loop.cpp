// Cluster mode: run the agent (extension/agent) with the local PostgreSQL port and the etcd
// client. The gate starts closed (deadline 0) and only the agent opens it, after it holds the
// leader lease. The etcd client's blocking calls check the worker's SIGTERM flag and postmaster
// death every 20 ms, so shutdown is prompt even in the middle of a request.
#include <memory>
#include <string>

#include "agent/agent.hpp"
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

// A node that cannot run (bad settings, an unusable etcd client): stays fenced and says why until
// it is stopped. A configuration reload does not wake it: fix the settings, then restart the server.
bool idle_fenced(PgLocalPort& local, const std::string& why) {
  fence_with(why);
  local.log(agent::LogLevel::Warning, "pg_ha: " + why);
  while (!shutdown_requested()) {
    if (wait_for_work(1000) == WaitResult::PostmasterDied) return false;
  }
  return true;
}

agent::AgentSettings agent_settings(const pg::Settings& s) {
  agent::AgentSettings a;
  a.node = pg::node_config(s);
  a.key_prefix = s.key_prefix;
  a.cluster = s.cluster_name;
  a.state_dir = s.state_dir;
  a.replication.user = s.replication_user;
  a.replication.passfile = s.replication_passfile;
  return a;
}

Result<std::unique_ptr<etcd::Client>> make_client(const pg::Settings& s, PgLocalPort& local) {
  etcd::Options o;
  o.endpoints = s.etcd_endpoints;
  o.request_timeout_ms = s.etcd_timeout_ms;
  o.connect_timeout_ms = s.etcd_timeout_ms;
  o.user = s.etcd_user;
  if (!s.etcd_user.empty()) {
    auto password = pg::read_etcd_password(s);
    if (!password.ok()) return password.error();
    o.password = *password;
  }
  o.tls.ca_file = s.etcd_ca_file;
  o.tls.cert_file = s.etcd_cert_file;
  o.tls.key_file = s.etcd_key_file;
  o.interrupt = [&local] { return local.io_should_abort(); };   // lets the final lease release through
  return etcd::Client::create(o);
}

}  // namespace

bool run_cluster_loop() {
  pg::shmem::set_standalone(false);
  fence_with("pg_ha is starting");
  PgLocalPort local;
  pg::Settings settings = pg::current_settings();
  if (Status v = pg::validate_cluster_settings(settings); !v.ok()) return idle_fenced(local, v.error().message);
  if (Status g = etcd::global_init(); !g.ok()) return idle_fenced(local, "cannot use etcd: " + g.error().message);
  auto client = make_client(settings, local);
  if (!client.ok()) return idle_fenced(local, "cannot use etcd: " + client.error().message);
  agent::EtcdClientPort etcd_port(**client);
  agent::Agent agent(agent_settings(settings), etcd_port, local);
  agent.run();
  fence_with("pg_ha worker stopped");
  return pg::postmaster_alive();
}

}  // namespace pg_ha::worker
