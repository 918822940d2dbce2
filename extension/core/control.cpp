#include "core/control.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/candidates.hpp"
#include "core/json_fields.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

namespace {

Error refuse(std::string text) { return make_error(ErrorKind::Invalid, std::move(text)); }

Result<const Versioned<StateRecord>*> live_state(const EtcdView& view) {
  if (!view.state) return refuse("the cluster has no state yet: it is still bootstrapping");
  return &*view.state;
}

EtcdWrite state_write(const Keys& keys, const Versioned<StateRecord>& s, const StateRecord& next, std::string what) {
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(keys.state(), s.mod_revision)};
  t.success = {kv::RequestOp::put(keys.state(), encode(next))};
  return EtcdWrite{std::move(what), std::move(t)};
}

Result<const MemberRecord*> known_member(const EtcdView& view, const std::string& name) {
  if (Status s = validate_node_name(name); !s.ok()) return s.error();
  auto it = view.members.find(name);
  if (it == view.members.end()) {
    std::string known;
    for (const auto& [n, m] : view.members) known += (known.empty() ? "" : ", ") + n;
    return refuse("no member \"" + name + "\" is registered (registered: " + (known.empty() ? "none" : known) +
                  "): check the name, or whether that node is down");
  }
  return &it->second.value;
}

// The best replica streaming from the primary within the lag bound, for switchover(NULL).
Result<std::string> best_replica(const EtcdView& view, const ClusterConfig& config) {
  std::optional<Candidate> best;
  for (const auto& [name, m] : view.members) {
    const MemberRecord& r = m.value;
    if (r.role != Role::Replica || !r.postgres_running || r.upstream != view.state->value.primary) continue;
    Candidate c{name, r.timeline, r.flush_lsn, r.tags};
    if (planned_ineligibility(config, view, c, m.mod_revision)) continue;
    if (!best || better_candidate(c, *best)) best = c;
  }
  if (!best) return refuse("no healthy candidate: no eligible replica is streaming from the primary");
  return best->name;
}

}  // namespace

Result<EtcdWrite> plan_switchover(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                  const std::string& candidate) {
  auto s = live_state(view);
  if (!s.ok()) return s.error();
  const StateRecord& st = (*s)->value;
  if (!view.leader) return refuse("there is no primary to switch over from; use failover() to promote a named candidate");
  if (st.request) return refuse("a switchover to " + st.request->to + " is already in progress");
  std::string to = candidate;
  if (to.empty()) {
    auto best = best_replica(view, config);
    if (!best.ok()) return best.error();
    to = *best;
  }
  auto m = known_member(view, to);
  if (!m.ok()) return m.error();
  if (to == view.leader->value.name) return refuse(to + " is already the primary");
  const MemberRecord& r = **m;
  if (r.role != Role::Replica || !r.postgres_running) return refuse(to + " is not a running replica (state: " + r.state + ")");
  if (r.upstream != view.leader->value.name) return refuse(to + " is not streaming from the primary " + view.leader->value.name);
  int64_t reported = view.members.at(to).mod_revision;
  if (auto why = planned_ineligibility(config, view, Candidate{to, r.timeline, r.flush_lsn, r.tags}, reported)) {
    return refuse("cannot switch over: " + *why);
  }
  StateRecord next = st;
  next.request = SwitchoverRequest{view.leader->value.name, to, false, false};
  return state_write(keys, **s, next, "request switchover to " + to);
}

bool switchover_refused_only_for_lag(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                     const std::string& candidate) {
  if (plan_switchover(keys, view, config, candidate).ok()) return false;
  ClusterConfig unbounded = config;
  unbounded.maximum_lag_on_failover = std::numeric_limits<int64_t>::max() / 4;   // no LSN reaches it
  return plan_switchover(keys, view, unbounded, candidate).ok();
}

Result<EtcdWrite> plan_failover(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                const std::string& candidate, bool force) {
  (void)config;
  auto s = live_state(view);
  if (!s.ok()) return s.error();
  const StateRecord& st = (*s)->value;
  if (candidate.empty()) return refuse("failover needs a candidate name");
  auto m = known_member(view, candidate);
  if (!m.ok()) return m.error();
  const MemberRecord& r = **m;
  if (view.leader && view.leader->value.name == candidate) return refuse(candidate + " is already the primary");
  if (r.role != Role::Replica || !r.postgres_running) return refuse(candidate + " is not a running replica (state: " + r.state + ")");
  if (!r.tags.can_promote()) return refuse(candidate + " is tagged nofailover or has priority 0");
  bool in_sync = std::find(st.sync_standbys.begin(), st.sync_standbys.end(), candidate) != st.sync_standbys.end();
  if (st.sync_active && !in_sync && !force) {
    return refuse(candidate + " is not in the synchronous set: promoting it may lose acknowledged commits; "
                  "use force => true to accept that");
  }
  StateRecord next = st;
  next.request = SwitchoverRequest{view.leader ? view.leader->value.name : "", candidate, true, force};
  return state_write(keys, **s, next, "request failover to " + candidate);
}

Result<EtcdWrite> plan_pause(const Keys& keys, const EtcdView& view, bool paused) {
  auto s = live_state(view);
  if (!s.ok()) return s.error();
  if ((*s)->value.paused == paused) return refuse(paused ? "the cluster is already paused" : "the cluster is not paused");
  StateRecord next = (*s)->value;
  next.paused = paused;
  return state_write(keys, **s, next, paused ? "pause" : "resume");
}

Result<EtcdWrite> plan_config_patch(const Keys& keys, const EtcdView& view, const std::string& patch_json) {
  auto patch = json_fields::parse_object(patch_json, "config patch");
  if (!patch.ok()) return refuse(patch.error().message);
  ClusterConfig current = view.config ? view.config->value : ClusterConfig{};
  nlohmann::json merged = nlohmann::json::parse(encode_cluster_config(current));
  merged.merge_patch(*patch);
  merged["version"] = kSchemaVersion;
  auto parsed = parse_cluster_config(merged.dump());
  if (!parsed.ok()) return parsed.error();
  if (Status v = validate_cluster_config(*parsed); !v.ok()) return v.error();
  std::string body = encode_cluster_config(*parsed);
  kv::Txn t;
  t.compare = {view.config ? kv::Compare::mod_revision_is(keys.config(), view.config->mod_revision)
                           : kv::Compare::absent(keys.config())};
  t.success = {kv::RequestOp::put(keys.config(), body)};
  return EtcdWrite{"change config", std::move(t)};
}

Result<EtcdWrite> plan_restart(const Keys& keys, const EtcdView& view, const std::string& node) {
  auto m = known_member(view, node);
  if (!m.ok()) return m.error();
  if (view.restart_requests.count(node)) return refuse("a restart of " + node + " is already pending");
  kv::Txn t;
  t.compare = {kv::Compare::absent(keys.restart(node))};
  t.success = {kv::RequestOp::put(keys.restart(node), "{\"version\":1}")};
  return EtcdWrite{"request restart of " + node, std::move(t)};
}

namespace {

bool is_primary(const EtcdView& view, const std::string& node) {
  return (view.leader && view.leader->value.name == node) || (view.state && view.state->value.primary == node);
}

// Deletes `key` if the view holds it, only as the view saw it.
template <typename T>
void delete_if_present(kv::Txn* t, const std::string& key, const std::map<std::string, Versioned<T>>& by_name,
                       const std::string& node) {
  auto it = by_name.find(node);
  if (it == by_name.end()) return;
  t->compare.push_back(kv::Compare::mod_revision_is(key, it->second.mod_revision));
  t->success.push_back(kv::RequestOp::del(key));
}

}  // namespace

Result<EtcdWrite> plan_reinit(const Keys& keys, const EtcdView& view, const std::string& node) {
  auto m = known_member(view, node);
  if (!m.ok()) return m.error();
  if (is_primary(view, node))
    return refuse(node + " is the primary: reinit re-clones a replica from the primary; switch over to another node first");
  if (!view.leader) return refuse("there is no primary to clone " + node + " from");
  if (view.reinit_requests.count(node)) return refuse("a reinit of " + node + " is already pending");
  kv::Txn t;
  t.compare = {kv::Compare::absent(keys.reinit(node))};
  t.success = {kv::RequestOp::put(keys.reinit(node), "{\"version\":1}")};
  return EtcdWrite{"request reinit of " + node, std::move(t)};
}

Result<EtcdWrite> plan_remove(const Keys& keys, const EtcdView& view, const std::string& node) {
  if (Status s = validate_node_name(node); !s.ok()) return s.error();
  if (is_primary(view, node)) return refuse(node + " is the primary: switch over to another node first");
  if (view.state) {
    const auto& sync = view.state->value.sync_standbys;
    if (std::find(sync.begin(), sync.end(), node) != sync.end())
      return refuse(node + " is in the recorded synchronous set: the primary drops a member that stopped streaming "
                    "once another standby can take its place (or set synchronous_mode off); remove it after that");
  }
  auto m = view.members.find(node);
  if (m != view.members.end() && (m->second.lease != 0 || m->second.value.postgres_running))
    return refuse(node + " is running (its member record is kept alive by its lease): stop its sidecar first, then "
                  "remove it");
  kv::Txn t;
  delete_if_present(&t, keys.member(node), view.members, node);
  delete_if_present(&t, keys.restart(node), view.restart_requests, node);
  delete_if_present(&t, keys.reinit(node), view.reinit_requests, node);
  if (t.success.empty())
    return refuse("nothing to remove: etcd holds no record of and no request for \"" + node + "\"");
  return EtcdWrite{"remove " + node + " (" + std::to_string(t.success.size()) + " key(s) deleted)", std::move(t)};
}

}  // namespace pg_ha::core
