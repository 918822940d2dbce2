// Status functions: all read the worker's snapshot (copied under its lock, parsed after; format
// in extension/agent/snapshot.hpp) and, for what must be exact right now (role, fence), the live
// state of this server.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "pg/gucs.hpp"
#include "sql_api/live_state.hpp"
#include "sql_api/snapshot_reader.hpp"
#include "sql_api/row.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {
namespace {

constexpr const char* kStandaloneNote = "pg_ha.etcd_endpoints is empty: standalone server, no cluster, no fencing";

json tags_json(const core::Tags& t) {
  return {{"nofailover", t.nofailover}, {"priority", t.priority}, {"nosync", t.nosync},
          {"noloadbalance", t.noloadbalance}};
}

Datum node_status(FunctionCallInfo fcinfo) {
  json snap = load_snapshot();
  const json& node = object_field(snap, "node");
  LiveState live = read_live_state();
  Row row(pg::result_tupdesc(fcinfo));
  row.text(0, str_field(node, "name"));
  row.text(1, live.role);
  row.text(2, str_field(node, "state"));
  row.int8(3, live.timeline);
  row.lsn(4, live.flush_lsn);
  row.lsn(5, live.replay_lsn);
  row.int8(6, own_lag_bytes(snap, live.role));
  row.boolean(7, live.fenced);
  row.text_or_null(8, live.fence_reason);
  row.boolean(9, bool_field(node, "etcd_reachable"));
  row.boolean(10, bool_field(snap, "standalone"));
  row.text_or_null(11, str_field(node, "state"));
  row.text_or_null(12, str_field(node, "reason"));
  return row.form();
}

// A standalone server is the whole "cluster": it lists itself, from the live settings.
void put_self_member(ReturnSetInfo* rsinfo, const json& node) {
  pg::Settings settings = pg::current_settings();
  LiveState live = read_live_state();
  Row row(rsinfo->setDesc);
  row.text(0, str_field(node, "name"));
  row.text(1, live.role);
  row.text(2, str_field(node, "state"));
  row.int8(3, live.timeline);
  row.int8(4, live.role == "primary" ? std::optional<int64_t>(0) : std::nullopt);
  row.jsonb(5, tags_json(settings.tags).dump());
  row.text_or_null(6, settings.connect_host);
  row.int4(7, settings.connect_port);
  row.text_or_null(8, settings.api_url);
  row.boolean(9, bool_field(node, "pending_restart"));
  row.boolean(10, false);   // no cluster, no synchronous set
  row.put(rsinfo);
}

std::vector<std::string> string_list(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const json& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// `sync`: the member is in the synchronous set recorded in etcd (cluster().sync_standbys) under its
// own identity (the snapshot's members say so).
void put_member(ReturnSetInfo* rsinfo, const json& m) {
  Row row(rsinfo->setDesc);
  row.text(0, str_field(m, "name"));
  row.text(1, str_field(m, "role"));
  row.text(2, str_field(m, "state"));
  int64_t timeline = int_field(m, "timeline");   // 0: not known (postgres stopped or starting)
  row.int8(3, timeline > 0 ? std::optional<int64_t>(timeline) : std::nullopt);
  auto lag = m.find("lag_bytes");
  row.int8(4, lag != m.end() && lag->is_number_integer() ? std::optional<int64_t>(lag->get<int64_t>()) : std::nullopt);
  row.jsonb(5, object_field(m, "tags").is_object() ? object_field(m, "tags").dump() : "{}");
  row.text_or_null(6, str_field(m, "host"));
  row.int4(7, static_cast<int32_t>(int_field(m, "port")));
  row.text_or_null(8, str_field(m, "api_url"));
  row.boolean(9, bool_field(m, "pending_restart"));
  row.boolean(10, bool_field(m, "sync"));
  // Only a down member has one: why its postgres is down, from its sidecar's down/<name> key.
  row.text_or_null(11, str_field(m, "reason"));
  row.put(rsinfo);
}

Datum members(FunctionCallInfo fcinfo) {
  json snap = load_snapshot();
  ReturnSetInfo* rsinfo = pg::init_materialized(fcinfo);
  json list = snap.value("members", json::array());
  if (bool_field(snap, "standalone") && list.empty()) put_self_member(rsinfo, object_field(snap, "node"));
  for (const json& m : list) put_member(rsinfo, m);
  return Datum(0);
}

Datum cluster(FunctionCallInfo fcinfo) {
  json snap = load_snapshot();
  Row row(pg::result_tupdesc(fcinfo));
  if (bool_field(snap, "standalone")) {
    // A standalone primary leads itself; there is no term, pause or recorded sync set.
    if (read_live_state().role == "primary") row.text(0, str_field(object_field(snap, "node"), "name"));
    row.boolean(2, false);
    row.text_array(3, {});
    return row.form();
  }
  const json& c = object_field(snap, "cluster");
  if (c.is_object()) {
    row.text_or_null(0, str_field(c, "leader"));
    if (c.contains("term")) row.int8(1, int_field(c, "term"));
    row.boolean(2, bool_field(c, "paused"));
    row.text_array(3, string_list(c, "sync_standbys"));
    if (object_field(c, "config").is_object()) row.jsonb(4, object_field(c, "config").dump());
  }
  return row.form();
}

Datum history(FunctionCallInfo fcinfo) {
  json snap = load_snapshot();
  ReturnSetInfo* rsinfo = pg::init_materialized(fcinfo);
  for (const json& h : snap.value("history", json::array())) {
    Row row(rsinfo->setDesc);
    row.int8(0, int_field(h, "term"));
    row.text(1, str_field(h, "reason"));
    row.text_or_null(2, str_field(h, "old_primary"));
    row.text_or_null(3, str_field(h, "new_primary"));
    row.int8(4, int_field(h, "old_timeline"));
    row.lsn(5, lsn_field(h, "lsn"));
    if (int_field(h, "at_unix_ms") > 0) row.timestamptz_from_unix_ms(6, int_field(h, "at_unix_ms"));
    row.put(rsinfo);
  }
  return Datum(0);
}

Datum config(FunctionCallInfo) {
  json snap = load_snapshot();
  if (bool_field(snap, "standalone"))
    return pg::jsonb_datum(json{{"standalone", true}, {"note", kStandaloneNote}}.dump());
  const json& c = object_field(snap, "cluster");
  if (c.is_object() && object_field(c, "config").is_object()) return pg::jsonb_datum(object_field(c, "config").dump());
  // No view of etcd yet: the core runs on its defaults until it reads the config key.
  return pg::jsonb_datum(core::encode_cluster_config(core::ClusterConfig{}));
}

}  // namespace
}  // namespace pg_ha::sql_api

PG_HA_SQL_FUNCTION(pg_ha_node_status, pg_ha::sql_api::node_status)
PG_HA_SQL_FUNCTION(pg_ha_members, pg_ha::sql_api::members)
PG_HA_SQL_FUNCTION(pg_ha_cluster, pg_ha::sql_api::cluster)
PG_HA_SQL_FUNCTION(pg_ha_history, pg_ha::sql_api::history)
PG_HA_SQL_FUNCTION(pg_ha_config, pg_ha::sql_api::config)
