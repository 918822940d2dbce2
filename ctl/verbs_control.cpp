// Verbs that ask the cluster to act, each through one control function of the SQL API:
// switchover, failover, restart, reinit, remove, pause, resume. The cluster validates and records the request
// (docs/sql-api.md); a refusal comes back as the server's message and exit code 1.
#include <chrono>

#include <fmt/format.h>

#include "await_primary.hpp"
#include "cluster_query.hpp"
#include "failure.hpp"
#include "output.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

std::string leader_of(const json& cluster) {
  auto it = cluster.find("leader");
  return it != cluster.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string done_line(const json& r) { return r.value("done", std::string("done")) + "\n"; }

int finish_move(const Options& o, json result, const std::string& old_leader, const std::string& target) {
  std::string pretty = done_line(result);
  if (o.wait_s > 0) {
    // A fresh connection each time: the node first asked may be the one being demoted.
    ClusterProbe probe = [&o] {
      SqlClient db(o.dsn);
      return read_cluster(db);
    };
    std::string now = await_new_primary(probe, {old_leader, target, std::chrono::seconds(o.wait_s)});
    result["new_primary"] = now;
    pretty += now + " is the new primary\n";
  }
  print_result(o, result, pretty);
  return kExitOk;
}

}  // namespace

int run_switchover(const Options& o) {
  SqlClient db(o.dsn);
  std::string old_leader = leader_of(read_cluster(db));
  confirm(o, fmt::format("Switch over from {} to {}?", old_leader.empty() ? "(no primary)" : old_leader,
                         o.candidate.empty() ? "the best eligible replica" : o.candidate));
  Param candidate = o.candidate.empty() ? Param() : Param(o.candidate);
  json r = parse_server_json(db.value("SELECT pg_ha.switchover($1)::text", {candidate}), "switchover");
  return finish_move(o, r, old_leader, o.candidate);
}

int run_failover(const Options& o) {
  SqlClient db(o.dsn);
  std::string old_leader = leader_of(read_cluster(db));
  confirm(o, fmt::format("Fail over to {}{}?", o.candidate,
                         old_leader.empty() ? "" : " (the primary " + old_leader + " will be demoted)"));
  json r = parse_server_json(
      db.value("SELECT pg_ha.failover($1, $2)::text", {o.candidate, std::string(o.allow_data_loss ? "true" : "false")}),
      "failover");
  return finish_move(o, r, old_leader, o.candidate);
}

int run_pause(const Options& o, bool paused) {
  SqlClient db(o.dsn);
  json r = parse_server_json(db.value(paused ? "SELECT pg_ha.pause()::text" : "SELECT pg_ha.resume()::text"),
                             paused ? "pause" : "resume");
  print_result(o, r, done_line(r));
  return kExitOk;
}

// The cluster answers at once: the node's sidecar re-clones it in the background (pg_hactl list
// shows it recloning, then streaming).
int run_reinit(const Options& o) {
  SqlClient db(o.dsn);
  confirm(o, fmt::format("Reinitialize {}? Its data directory is moved aside and cloned again from the primary", o.member));
  json r = parse_server_json(db.value("SELECT pg_ha.reinit($1)::text", {o.member}), "reinit");
  print_result(o, r, done_line(r));
  return kExitOk;
}

int run_remove(const Options& o) {
  SqlClient db(o.dsn);
  confirm(o, fmt::format("Remove {} from the cluster's records in etcd?", o.member));
  json r = parse_server_json(db.value("SELECT pg_ha.remove($1)::text", {o.member}), "remove");
  print_result(o, r, done_line(r));
  return kExitOk;
}

}  // namespace pg_ha::ctl
