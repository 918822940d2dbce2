// Health checks for load balancers (the sidecar's /primary and /replica answer from these):
// a boolean and a jsonb reason that says what was checked.
#include <cstdint>
#include <optional>
#include <string>

#include "pg/gucs.hpp"
#include "sql_api/live_state.hpp"
#include "sql_api/snapshot_reader.hpp"
#include "sql_api/row.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {
namespace {

Datum result(FunctionCallInfo fcinfo, bool ok, const json& reason) {
  Row row(pg::result_tupdesc(fcinfo));
  row.boolean(0, ok);
  row.jsonb(1, reason.dump());
  return row.form();
}

Datum health_primary(FunctionCallInfo fcinfo) {
  json snap = load_snapshot();
  LiveState live = read_live_state();
  json reason = {{"role", live.role}, {"fenced", live.fenced}, {"standalone", bool_field(snap, "standalone")}};
  if (live.fenced) reason["fence_reason"] = live.fence_reason;
  bool ok = live.role == "primary" && !live.fenced;
  if (!ok) reason["problem"] = live.role != "primary" ? "not the primary" : "fenced";
  return result(fcinfo, ok, reason);
}

// Why a replica should not serve reads, or "" when it may.
std::string replica_problem(const LiveState& live, std::optional<int64_t> lag, std::optional<int64_t> max_lag) {
  if (live.role != "replica") return "not a replica";
  if (live.receiver_state != "streaming") return "not streaming";
  if (pg::current_settings().tags.noloadbalance) return "tagged noloadbalance";
  if (max_lag && !lag) return "lag unknown";
  if (max_lag && *lag > *max_lag) return "lagging more than max_lag_bytes";
  return "";
}

Datum health_replica(FunctionCallInfo fcinfo) {
  std::optional<int64_t> max_lag;
  if (!PG_ARGISNULL(0)) max_lag = PG_GETARG_INT64(0);
  if (max_lag && *max_lag < 0)
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: max_lag_bytes must not be negative");
  json snap = load_snapshot();
  LiveState live = read_live_state();
  std::optional<int64_t> lag = own_lag_bytes(snap, live.role);
  json reason = {{"role", live.role}, {"receiver_state", live.receiver_state},
                 {"lag_bytes", lag ? json(*lag) : json(nullptr)},
                 {"max_lag_bytes", max_lag ? json(*max_lag) : json(nullptr)},
                 {"standalone", bool_field(snap, "standalone")}};
  std::string problem = replica_problem(live, lag, max_lag);
  if (!problem.empty()) reason["problem"] = problem;
  return result(fcinfo, problem.empty(), reason);
}

}  // namespace
}  // namespace pg_ha::sql_api

PG_HA_SQL_FUNCTION(pg_ha_health_primary, pg_ha::sql_api::health_primary)
PG_HA_SQL_FUNCTION(pg_ha_health_replica, pg_ha::sql_api::health_replica)
