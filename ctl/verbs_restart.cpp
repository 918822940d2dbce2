// restart: one request per member through pg_ha.restart(node); the member's sidecar restarts its
// PostgreSQL. Replicas are asked first and the primary last, so that a rolling restart of a
// pending parameter change ends on the primary.
#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cluster_query.hpp"
#include "failure.hpp"
#include "output.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

std::vector<std::string> restart_targets(const Options& o, const json& cluster) {
  std::vector<std::string> out;
  std::string leader = cluster.value("leader", json()).is_string() ? cluster["leader"].get<std::string>() : "";
  auto wanted = [&](const json& m) {
    std::string name = m.value("name", "");
    bool named = o.nodes.empty() ? (o.all || o.pending)
                                 : std::find(o.nodes.begin(), o.nodes.end(), name) != o.nodes.end();
    bool pending = m.value("pending_restart", json(false)) == json(true);
    return named && (!o.pending || pending);
  };
  for (const json& m : cluster.value("members", json::array()))
    if (wanted(m) && m.value("name", "") != leader) out.push_back(m.value("name", ""));
  for (const json& m : cluster.value("members", json::array()))
    if (wanted(m) && m.value("name", "") == leader) out.push_back(leader);
  // A name that is not a member is still sent: the cluster's refusal names the members it knows.
  for (const std::string& n : o.nodes)
    if (find_member(cluster, n).is_null()) out.push_back(n);
  return out;
}

}  // namespace

int run_restart(const Options& o) {
  if (o.nodes.empty() && !o.all && !o.pending) throw Failure(kExitUsage, "restart: name the members, or give --all or --pending");
  if (!o.nodes.empty() && o.all) throw Failure(kExitUsage, "restart: give member names or --all, not both");
  SqlClient db(o.dsn);
  std::vector<std::string> targets = restart_targets(o, read_cluster(db));
  if (targets.empty()) {
    print_result(o, json::array(), "no member has a pending restart\n");
    return kExitOk;
  }
  confirm(o, fmt::format("Restart PostgreSQL on {}?", fmt::join(targets, ", ")));
  json results = json::array();
  std::string pretty;
  int code = kExitOk;
  for (const std::string& node : targets) {
    try {
      json r = parse_server_json(db.value("SELECT pg_ha.restart($1)::text", {node}), "restart");
      results.push_back({{"member", node}, {"ok", true}, {"result", r}});
      pretty += r.value("done", "restart of " + node + " requested") + "\n";
    } catch (const Failure& f) {
      if (f.code() == kExitUnreachable) throw;
      results.push_back({{"member", node}, {"ok", false}, {"error", f.what()}});
      std::cerr << "pg_hactl: " << node << ": " << f.what() << "\n";
      code = kExitRefused;
    }
  }
  print_result(o, results, pretty);
  return code;
}

}  // namespace pg_ha::ctl
