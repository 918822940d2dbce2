#include "agent/snapshot.hpp"

#include <nlohmann/json.hpp>

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

using nlohmann::json;

namespace {

const char* local_role(const core::LocalObservation& l) {
  if (!l.postgres_running) return "unknown";
  return l.in_recovery ? "replica" : "primary";
}

core::Lsn primary_position(const core::EtcdView& v) {
  core::Lsn best = v.optime ? v.optime->value.lsn : 0;
  if (v.leader) {
    auto it = v.members.find(v.leader->value.name);
    if (it != v.members.end() && it->second.value.flush_lsn > best) best = it->second.value.flush_lsn;
  }
  return best;
}

json cluster_json(const core::EtcdView& v, const core::ClusterConfig& config) {
  json c = {{"leader", v.leader ? json(v.leader->value.name) : json(nullptr)},
            {"config", json::parse(core::encode_cluster_config(config))}};
  if (v.state) {
    json s = json::parse(core::encode(v.state->value));
    for (const char* k : {"term", "primary", "timeline", "paused", "sync_active", "sync_quorum", "sync_standbys"}) c[k] = s[k];
    c["request"] = s.contains("request") ? s["request"] : json(nullptr);
  }
  return c;
}

json members_json(const core::EtcdView& v) {
  json out = json::array();
  core::Lsn top = primary_position(v);
  for (const auto& [name, m] : v.members) {
    json j = json::parse(core::encode(m.value));
    j.erase("version");
    bool is_leader = v.leader && v.leader->value.name == name;
    j["leader"] = is_leader;
    j["lag_bytes"] = (is_leader || m.value.flush_lsn >= top) ? 0 : static_cast<int64_t>(top - m.value.flush_lsn);
    out.push_back(j);
  }
  return out;
}

json history_json(const core::EtcdView& v) {
  json out = json::array();
  for (const auto& [term, h] : v.history) {
    json j = json::parse(core::encode(h.value));
    j.erase("version");
    out.push_back(j);
  }
  return out;
}

}  // namespace

std::string render_snapshot(const SnapshotInput& in) {
  const core::LocalObservation& l = in.obs.local;
  json node = {{"name", in.node.name},
               {"role", local_role(l)},
               {"state", in.decision.state},
               {"reason", in.decision.reason},
               {"timeline", l.timeline},
               {"flush_lsn", core::lsn_to_string(l.flush_lsn)},
               {"replay_lsn", core::lsn_to_string(l.replay_lsn)},
               {"upstream", l.receiver_streaming ? l.upstream : ""},
               {"fenced", l.in_recovery ? false : in.decision.fenced},
               {"fence_reason", l.in_recovery ? "" : in.decision.fence_reason},
               {"write_deadline_in_ms", in.decision.write_deadline_ms > in.obs.now_ms ? in.decision.write_deadline_ms - in.obs.now_ms : 0},
               {"etcd_reachable", in.etcd_reachable},
               {"etcd_error", in.etcd_error},
               {"lease_id", std::to_string(in.obs.lease.id)},
               {"pending_restart", l.pending_restart}};
  json doc = {{"version", 1}, {"at_unix_ms", in.obs.wall_clock_unix_ms}, {"standalone", false}, {"node", node}};
  if (in.view) {
    doc["cluster"] = cluster_json(*in.view, in.config);
    doc["members"] = members_json(*in.view);
    doc["history"] = history_json(*in.view);
    doc["problems"] = in.view->problems;
  } else {
    doc["cluster"] = json::object();
    doc["members"] = json::array();
    doc["history"] = json::array();
    doc["problems"] = json::array();
  }
  return doc.dump();
}

std::string render_standalone_snapshot(const std::string& node_name, const core::LocalObservation& l,
                                       int64_t at_unix_ms) {
  json node = {{"name", node_name}, {"role", local_role(l)}, {"state", "standalone"},
               {"reason", "no etcd endpoints configured (pg_ha.etcd_endpoints): standalone, never fenced"},
               {"timeline", l.timeline}, {"flush_lsn", core::lsn_to_string(l.flush_lsn)},
               {"replay_lsn", core::lsn_to_string(l.replay_lsn)}, {"upstream", ""}, {"fenced", false},
               {"fence_reason", ""}, {"write_deadline_in_ms", 0}, {"etcd_reachable", false}, {"etcd_error", ""},
               {"lease_id", "0"}, {"pending_restart", l.pending_restart}};
  return json{{"version", 1}, {"at_unix_ms", at_unix_ms}, {"standalone", true}, {"node", node},
              {"cluster", json::object()}, {"members", json::array()}, {"history", json::array()},
              {"problems", json::array()}}
      .dump();
}

}  // namespace pg_ha::agent
