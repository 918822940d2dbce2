#include "worker/status_snapshot.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace pg_ha::worker {
namespace {

using json = nlohmann::json;

// Core records are encoded once, by the core; the snapshot embeds them as objects.
json embed(const std::string& encoded) { return json::parse(encoded, nullptr, false); }

const char* local_role(const LocalDetails& d) { return d.observation.in_recovery ? "replica" : "primary"; }

json node_json(const SnapshotInput& in) {
  const core::LocalObservation& o = in.local.observation;
  return json{{"name", in.node.name},
              {"role", local_role(in.local)},
              {"state", in.decision ? in.decision->state : (in.standalone ? "standalone" : "starting")},
              {"timeline", o.timeline},
              {"flush_lsn", core::lsn_to_string(o.flush_lsn)},
              {"replay_lsn", core::lsn_to_string(o.replay_lsn)},
              {"receiver_state", in.local.receiver_state},
              {"upstream", o.upstream},
              {"host", in.node.host},
              {"port", in.node.port},
              {"api_url", in.node.api_url},
              {"tags", {{"nofailover", in.node.tags.nofailover}, {"priority", in.node.tags.priority},
                        {"nosync", in.node.tags.nosync}, {"noloadbalance", in.node.tags.noloadbalance}}},
              {"pending_restart", o.pending_restart},
              {"system_identifier", std::to_string(o.system_identifier)},
              {"synchronous_standby_names", o.synchronous_standby_names},
              {"fenced", in.fenced},
              {"fence_reason", in.fence_reason},
              {"etcd_reachable", in.etcd_reachable},
              {"etcd_error", in.etcd_error}};
}

// A standalone node is the whole cluster: it lists itself as the only member.
json self_member(const SnapshotInput& in) {
  core::MemberRecord m;
  const core::LocalObservation& o = in.local.observation;
  m.name = in.node.name;
  m.role = o.in_recovery ? core::Role::Replica : core::Role::Primary;
  m.state = "standalone";
  m.postgres_running = true;
  m.timeline = o.timeline;
  m.flush_lsn = o.flush_lsn;
  m.replay_lsn = o.replay_lsn;
  m.host = in.node.host;
  m.port = in.node.port;
  m.api_url = in.node.api_url;
  m.tags = in.node.tags;
  m.pending_restart = o.pending_restart;
  return embed(core::encode(m));
}

json cluster_json(const core::EtcdView& view) {
  json c = {{"revision", view.revision}, {"leader", nullptr}, {"state", nullptr},
            {"config", nullptr}, {"optime", nullptr}, {"problems", view.problems}};
  if (view.leader) c["leader"] = embed(core::encode(view.leader->value));
  if (view.state) c["state"] = embed(core::encode(view.state->value));
  if (view.config) c["config"] = embed(core::encode_cluster_config(view.config->value));
  if (view.optime) c["optime"] = embed(core::encode(view.optime->value));
  return c;
}

}  // namespace

std::string encode_snapshot(const SnapshotInput& in) {
  json s = {{"version", kSnapshotVersion}, {"published_unix_ms", in.now_unix_ms},
            {"standalone", in.standalone},  {"cluster_name", in.cluster_name},
            {"node", node_json(in)},        {"decision", nullptr},
            {"cluster", nullptr},           {"members", json::array()},
            {"history", json::array()}};
  if (in.decision)
    s["decision"] = {{"state", in.decision->state}, {"reason", in.decision->reason}, {"at_unix_ms", in.decided_unix_ms}};
  if (in.standalone) s["members"].push_back(self_member(in));
  if (in.view) {
    s["cluster"] = cluster_json(*in.view);
    for (const auto& [name, member] : in.view->members) s["members"].push_back(embed(core::encode(member.value)));
  }
  for (const core::HistoryRecord& h : in.history) s["history"].push_back(embed(core::encode(h)));
  return s.dump();
}

std::vector<core::HistoryRecord> history_from_kvs(const core::Keys& keys, const std::vector<kv::KeyValue>& kvs) {
  std::vector<core::HistoryRecord> out;
  const std::string prefix = keys.history_prefix();
  for (const kv::KeyValue& kv : kvs) {
    if (kv.key.rfind(prefix, 0) != 0) continue;
    Result<core::HistoryRecord> h = core::decode_history(kv.value);
    if (h.ok()) out.push_back(*h);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.term < b.term; });
  return out;
}

}  // namespace pg_ha::worker
