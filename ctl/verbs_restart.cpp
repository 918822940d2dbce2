// restart: one request per member through pg_ha.restart(node); the member's sidecar restarts its
// PostgreSQL. Replicas are asked first and the primary last, and the member this connection
// reaches after all of them (restart_order.hpp): its restart ends the connection.
#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cluster_query.hpp"
#include "failure.hpp"
#include "output.hpp"
#include "restart_order.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

// How long pg_hactl waits for the member it was connected to to come back from its restart.
constexpr int kConfirmRestartS = 60;

// The member this connection reaches; "" when the server cannot say yet (its worker has not
// published its status).
std::string connected_member(SqlClient& db) {
  try {
    return db.value("SELECT name FROM pg_ha.node_status()");
  } catch (const Failure& f) {
    if (f.code() == kExitUnreachable) throw;
    return "";
  }
}

// The sidecar stops the server within milliseconds of the request, so the answer to the restart
// of the member this connection reaches may never arrive. The request went through if that
// member answers again with a newer start time. False when it cannot be told: the dsn now
// reaches another member, or none within kConfirmRestartS.
bool restarted_since(const Options& o, const std::string& node, const std::string& started_at) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kConfirmRestartS);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      SqlClient db(o.dsn);
      std::string here = connected_member(db);
      if (!here.empty() && here != node) return false;
      if (here == node && db.value("SELECT pg_postmaster_start_time()::text") != started_at) return true;
    } catch (const Failure&) {
      // still restarting
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace

int run_restart(const Options& o) {
  if (o.nodes.empty() && !o.all && !o.pending) throw Failure(kExitUsage, "restart: name the members, or give --all or --pending");
  if (!o.nodes.empty() && o.all) throw Failure(kExitUsage, "restart: give member names or --all, not both");
  SqlClient db(o.dsn);
  std::string here = connected_member(db);
  std::vector<std::string> targets = restart_order({o.nodes, o.all, o.pending}, read_cluster(db), here);
  if (targets.empty()) {
    print_result(o, json::array(), "no member has a pending restart\n");
    return kExitOk;
  }
  confirm(o, fmt::format("Restart PostgreSQL on {}?", fmt::join(targets, ", ")));
  json results = json::array();
  std::string pretty;
  int code = kExitOk;
  for (const std::string& node : targets) {
    bool self = node == here;
    std::string started_at = self ? db.value("SELECT pg_postmaster_start_time()::text") : "";
    try {
      json r = parse_server_json(db.value("SELECT pg_ha.restart($1)::text", {node}), "restart");
      results.push_back({{"member", node}, {"ok", true}, {"result", r}});
      pretty += r.value("done", "restart of " + node + " requested") + "\n";
    } catch (const Failure& f) {
      if (f.code() == kExitUnreachable && self && restarted_since(o, node, started_at)) {
        std::string done = "restart of " + node + " done (the member this connection reached: its restart ended the connection)";
        results.push_back({{"member", node}, {"ok", true}, {"result", {{"done", done}}}});
        pretty += done + "\n";
        continue;
      }
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
