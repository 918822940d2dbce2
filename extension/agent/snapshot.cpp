#include "agent/snapshot.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

using nlohmann::json;

namespace {

constexpr size_t kMaxFieldBytes = 1024;   // a member's state or error text in the snapshot
constexpr size_t kMaxProblems = 20;

// Never throws: bytes that are not UTF-8 become U+FFFD.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string clipped(const std::string& text) {
  return text.size() <= kMaxFieldBytes ? text : text.substr(0, kMaxFieldBytes) + "...";
}

json problems_json(const std::vector<std::string>& problems) {
  json out = json::array();
  for (size_t i = 0; i < problems.size() && i < kMaxProblems; ++i) out.push_back(clipped(problems[i]));
  if (problems.size() > kMaxProblems) out.push_back(std::to_string(problems.size() - kMaxProblems) + " more problems not shown");
  return out;
}

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

// The sidecar's down/<name> key is newer news than a member record whose lease has not run out
// yet: postgres is down, whatever the worker last wrote.
void mark_down(json& j, const core::DownRecord& d) {
  j["state"] = clipped(d.state);
  j["reason"] = clipped(d.reason);
  j["down_since_unix_ms"] = d.since_unix_ms;
  j["postgres_running"] = false;
}

// The member is in the recorded synchronous set under its own identity: a second node under a
// recorded name (another identity) is not the synchronous standby (F16).
bool recorded_sync(const core::EtcdView& v, const std::string& name, const std::string& member_id) {
  if (!v.state) return false;
  const core::StateRecord& s = v.state->value;
  if (std::find(s.sync_standbys.begin(), s.sync_standbys.end(), name) == s.sync_standbys.end()) return false;
  auto id = s.sync_ids.find(name);
  return id == s.sync_ids.end() || id->second == member_id;
}

json members_json(const core::EtcdView& v) {
  json out = json::array();
  core::Lsn top = primary_position(v);
  for (const auto& [name, m] : v.members) {
    json j = json::parse(core::encode(m.value));
    j.erase("version");
    for (const char* field : {"state", "error", "api_url"}) j[field] = clipped(j[field].get<std::string>());
    bool is_leader = v.leader && v.leader->value.name == name;
    j["leader"] = is_leader;
    j["sync"] = recorded_sync(v, name, m.value.member_id);
    // A member that reports no position (postgres stopped for a demote or a clone, or not yet
    // reading its control file) is not "the primary's whole WAL behind": its lag is unknown.
    bool unknown = !is_leader && (!m.value.postgres_running || m.value.timeline == 0 || m.value.flush_lsn == 0);
    if (unknown) j["lag_bytes"] = nullptr;
    else j["lag_bytes"] = (is_leader || m.value.flush_lsn >= top) ? 0 : static_cast<int64_t>(top - m.value.flush_lsn);
    auto down = v.down.find(name);
    if (down != v.down.end()) mark_down(j, down->second.value);
    out.push_back(j);
  }
  // Down members whose worker's record has gone with its lease: listed from their sidecar's key.
  for (const auto& [name, d] : v.down) {
    if (v.members.count(name)) continue;
    json j = {{"name", name}, {"role", d.value.role.empty() ? "unknown" : d.value.role}, {"timeline", 0},
              {"host", d.value.host}, {"port", d.value.port}, {"api_url", clipped(d.value.api_url)},
              {"tags", json::object()}, {"pending_restart", false}, {"leader", false}, {"lag_bytes", nullptr},
              {"postgres_running", false}, {"member_id", d.value.member_id},
              {"sync", recorded_sync(v, name, d.value.member_id)}};
    mark_down(j, d.value);
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

// Keeps the newest history entries that fit in max_bytes and says how many were left out. If even
// no history does not fit (a huge cluster), the members go too: the node's own status and the
// problem are always published.
std::string fit(json doc, size_t max_bytes) {
  std::string text = dump(doc);
  if (text.size() <= max_bytes) return text;
  json all = doc["history"];
  size_t total = all.size();
  auto with_newest = [&](size_t keep) {
    json kept = json::array();
    for (size_t i = total - keep; i < total; ++i) kept.push_back(all[i]);
    json d = doc;
    d["history"] = std::move(kept);
    d["history_omitted"] = total - keep;
    d["problems"].push_back("the status shows the newest " + std::to_string(keep) + " of " + std::to_string(total) +
                            " history entries (status snapshot limit " + std::to_string(max_bytes + 1) + " bytes)");
    return dump(d);
  };
  size_t lo = 0, hi = total;   // invariant: keeping lo fits or lo == 0; keeping more than hi does not
  while (lo < hi) {
    size_t mid = (lo + hi + 1) / 2;
    if (with_newest(mid).size() <= max_bytes) lo = mid;
    else hi = mid - 1;
  }
  text = with_newest(lo);
  if (text.size() <= max_bytes) return text;
  json minimal = {{"version", doc["version"]}, {"at_unix_ms", doc["at_unix_ms"]}, {"standalone", doc["standalone"]},
                  {"node", doc["node"]}, {"cluster", json::object()}, {"members", json::array()},
                  {"history", json::array()}, {"history_omitted", total},
                  {"problems", {"the cluster status does not fit in the status snapshot (" + std::to_string(max_bytes + 1) +
                                " bytes); members and history are left out"}}};
  return dump(minimal);
}

}  // namespace

std::string render_snapshot(const SnapshotInput& in) {
  const core::LocalObservation& l = in.obs.local;
  json node = {{"name", in.node.name},
               {"role", local_role(l)},
               {"state", core::state_name(in.decision.state)},
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
    doc["problems"] = problems_json(in.view->problems);
  } else {
    doc["cluster"] = json::object();
    doc["members"] = json::array();
    doc["history"] = json::array();
    doc["problems"] = json::array();
  }
  return fit(std::move(doc), in.max_bytes);
}

std::string render_standalone_snapshot(const std::string& node_name, const core::LocalObservation& l,
                                       int64_t at_unix_ms) {
  json node = {{"name", node_name}, {"role", local_role(l)}, {"state", core::state_name(core::NodeState::Standalone)},
               {"reason", "no etcd endpoints configured (pg_ha.etcd_endpoints): standalone, never fenced"},
               {"timeline", l.timeline}, {"flush_lsn", core::lsn_to_string(l.flush_lsn)},
               {"replay_lsn", core::lsn_to_string(l.replay_lsn)}, {"upstream", ""}, {"fenced", false},
               {"fence_reason", ""}, {"write_deadline_in_ms", 0}, {"etcd_reachable", false}, {"etcd_error", ""},
               {"lease_id", "0"}, {"pending_restart", l.pending_restart}};
  return json{{"version", 1}, {"at_unix_ms", at_unix_ms}, {"standalone", true}, {"node", node},
              {"cluster", json::object()}, {"members", json::array()}, {"history", json::array()},
              {"problems", json::array()}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pg_ha::agent
