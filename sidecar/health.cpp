#include "health.hpp"

#include <memory>
#include <vector>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include "metrics.hpp"
#include "postmaster.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

using json = nlohmann::json;
constexpr int kTimeoutS = 2;

using Rows = std::vector<std::vector<std::string>>;

struct QueryError {
  bool unreachable = false;
  bool missing_extension = false;   // pg_ha's schema or function does not exist (yet)
  std::string message;
};

// One short-lived connection per check: a wedged server must not wedge the health API.
bool query(const Node& node, const std::string& sql, Rows* rows, QueryError* err) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(local_conninfo(node, kTimeoutS).c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    err->unreachable = true;
    err->message = "postgres is not reachable";
    return false;
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    std::string code = state ? state : "";
    err->missing_extension = code == "3F000" || code == "42883" || code == "42P01";
    err->message = err->missing_extension ? "the pg_ha extension is not created yet" : "query failed (SQLSTATE " + code + ")";
    return false;
  }
  rows->clear();
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < PQnfields(res.get()); ++c) row.push_back(PQgetisnull(res.get(), r, c) ? "" : PQgetvalue(res.get(), r, c));
    rows->push_back(std::move(row));
  }
  return true;
}

std::string problem_json(const std::string& problem) { return safe_dump(json{{"problem", problem}}); }

std::string lag_arg(std::optional<int64_t> lag) { return lag ? std::to_string(*lag) : "NULL"; }

// Checks without pg_ha, only for nodes that do not preload it (standalone or tests).
const char* kPlainPrimary =
    "SELECT NOT pg_is_in_recovery(), json_build_object('role', CASE WHEN pg_is_in_recovery() THEN 'replica' "
    "ELSE 'primary' END, 'source', 'postgres')::text";
std::string plain_replica(std::optional<int64_t> lag) {
  return "SELECT pg_is_in_recovery() AND coalesce(w.status = 'streaming', false) AND (" + lag_arg(lag) +
         "::bigint IS NULL OR coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) <= " +
         lag_arg(lag) + ", false)), json_build_object('role', CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE "
         "'primary' END, 'receiver_state', w.status, 'source', 'postgres')::text "
         "FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver w ON true";
}

}  // namespace

Health::Check Health::run_check(const std::string& pg_ha_sql, const std::string& fallback_sql) {
  Check c;
  Rows rows;
  QueryError err;
  bool done = query(node_, pg_ha_sql, &rows, &err);
  if (!done && err.missing_extension && !node_.config.preloads_pg_ha()) done = query(node_, fallback_sql, &rows, &err);
  c.reachable = done || !err.unreachable;
  if (!done || rows.empty() || rows[0].size() < 2) {
    c.reason_json = problem_json(done ? "no answer" : err.message);
    return c;
  }
  c.ok = rows[0][0] == "t";
  c.reason_json = rows[0][1].empty() ? "{}" : rows[0][1];
  return c;
}

HealthAnswer Health::answer(const char* check, const Check& c) {
  json reason = json::parse(c.reason_json, nullptr, false);
  if (reason.is_discarded()) reason = json::object();
  json body{{"check", check}, {"ok", c.ok}, {"node", node_.config.name}, {"postgres_reachable", c.reachable},
            {"reason", reason}};
  return HealthAnswer{c.ok ? 200 : 503, safe_dump(body) + "\n"};
}

HealthAnswer Health::primary() {
  return answer("primary", run_check("SELECT ok, reason::text FROM pg_ha.health_primary()", kPlainPrimary));
}

HealthAnswer Health::replica(std::optional<int64_t> max_lag) {
  return answer("replica", run_check("SELECT ok, reason::text FROM pg_ha.health_replica(" + lag_arg(max_lag) + ")",
                                     plain_replica(max_lag)));
}

HealthAnswer Health::read_only(std::optional<int64_t> max_lag) {
  Check p = run_check("SELECT ok, reason::text FROM pg_ha.health_primary()", kPlainPrimary);
  if (p.ok || !p.reachable) return answer("read-only", p);
  return answer("read-only", run_check("SELECT ok, reason::text FROM pg_ha.health_replica(" + lag_arg(max_lag) + ")",
                                       plain_replica(max_lag)));
}

HealthAnswer Health::readiness() {
  HealthAnswer a = read_only(std::nullopt);
  json body = json::parse(a.body, nullptr, false);
  if (body.is_object()) body["check"] = "readiness";
  a.body = safe_dump(body) + "\n";
  return a;
}

HealthAnswer Health::health() {
  Check c;
  Rows rows;
  QueryError err;
  c.reachable = query(node_, "SELECT true, json_build_object('in_recovery', pg_is_in_recovery())::text", &rows, &err);
  c.ok = c.reachable;
  c.reason_json = c.reachable ? rows[0][1] : problem_json(err.message);
  std::string down = stats_.down_reason();
  if (!c.reachable && !down.empty()) {
    json reason{{"problem", err.message}, {"postgres_down", down}};
    std::string state = stats_.down_state();
    if (!state.empty()) reason["state"] = state;
    c.reason_json = reason.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (c.reachable && query(node_, "SELECT true, row_to_json(s)::text FROM pg_ha.node_status() s", &rows, &err))
    c.reason_json = rows[0][1];
  return answer("health", c);
}

HealthAnswer Health::liveness() {
  json body{{"check", "liveness"}, {"ok", true}, {"node", node_.config.name},
            {"postgres_running", stats_.postgres_running.load()}};
  std::string state = stats_.down_state();
  if (!state.empty()) body["state"] = state;
  return HealthAnswer{200, safe_dump(body) + "\n"};
}

HealthAnswer Health::cluster() {
  Rows rows;
  QueryError err;
  const char* sql =
      "SELECT json_build_object('members', (SELECT coalesce(json_agg(m), '[]') FROM pg_ha.members() m), "
      "'cluster', (SELECT row_to_json(c) FROM pg_ha.cluster() c), "
      "'history', (SELECT coalesce(json_agg(h), '[]') FROM pg_ha.history() h))::text";
  if (!query(node_, sql, &rows, &err) || rows.empty())
    return HealthAnswer{503, safe_dump(json{{"node", node_.config.name}, {"problem", err.message}}) + "\n"};
  return HealthAnswer{200, rows[0][0] + "\n"};
}

HealthAnswer Health::metrics() {
  const MetricLabels node{{"node", node_.config.name}};
  MetricsText m;
  Rows rows;
  QueryError err;
  bool up = query(node_, "SELECT 1", &rows, &err);
  m.add("pg_ha_postgres_up", "gauge", "1 when the local postgres answers queries", node, up ? "1" : "0");
  if (up && query(node_, "SELECT role, coalesce(lag_bytes, 0), fenced, coalesce(timeline, 0) FROM pg_ha.node_status()", &rows, &err) &&
      !rows.empty()) {
    const auto& r = rows[0];
    for (const char* role : {"primary", "replica", "unknown"})
      m.add("pg_ha_role", "gauge", "1 for this node's current role", {{"node", node_.config.name}, {"role", role}},
            r[0] == role ? "1" : "0");
    m.add("pg_ha_lag_bytes", "gauge", "replication lag of this node in bytes", node, r[1]);
    m.add("pg_ha_fenced", "gauge", "1 while this node refuses writes (fenced)", node, r[2] == "t" ? "1" : "0");
    m.add("pg_ha_timeline", "gauge", "this node's timeline", node, r[3]);
  }
  if (up && query(node_, "SELECT coalesce(term, 0) FROM pg_ha.cluster()", &rows, &err) && !rows.empty())
    m.add("pg_ha_term", "gauge", "the cluster's current term", node, rows[0][0]);
  if (up && query(node_, "SELECT count(*) FROM pg_ha.history() WHERE reason <> 'bootstrap'", &rows, &err) && !rows.empty())
    m.add("pg_ha_failovers_total", "counter", "failovers and switchovers recorded in the cluster's history", node, rows[0][0]);
  m.add("pg_ha_sidecar_postgres_restarts_total", "counter", "restarts of postgres after a crash", node,
        std::to_string(stats_.postgres_restarts.load()));
  m.add("pg_ha_sidecar_lease_revocations_total", "counter", "leases revoked after a primary crash", node,
        std::to_string(stats_.lease_revocations.load()));
  m.add("pg_ha_sidecar_requests_total", "counter", "worker requests carried out", node,
        std::to_string(stats_.requests_done.load()));
  return HealthAnswer{200, m.render(), "text/plain; version=0.0.4"};
}

}  // namespace pg_ha::sidecar
