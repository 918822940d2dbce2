// The member heartbeat (and, on the primary, the optime) and operator restart requests.
#include "core/canaries.hpp"
#include "core/step_context.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

MemberRecord member_record(const Ctx& c) {
  MemberRecord r;
  r.name = c.me;
  r.role = !c.local.postgres_running ? Role::Unknown : c.local.in_recovery ? Role::Replica : Role::Primary;
  r.state = state_name(c.d.state);
  r.postgres_running = c.local.postgres_running;
  r.timeline = c.local.timeline;
  r.flush_lsn = c.local.flush_lsn;
  r.replay_lsn = c.local.replay_lsn;
  r.upstream = c.local.receiver_streaming ? c.local.upstream : "";
  r.host = c.node.host;
  r.port = c.node.port;
  r.api_url = c.node.api_url;
  r.lease_id = c.obs.lease.id;
  r.tags = c.node.tags;
  r.pending_restart = c.local.pending_restart;
  r.member_id = c.node.member_id;
  r.system_identifier = c.local.system_identifier ? std::to_string(c.local.system_identifier) : "";
  return r;
}

// What must reach etcd at once when it changes; positions may wait for the next interval.
std::string without_positions(const MemberRecord& r) {
  MemberRecord k = r;
  k.flush_lsn = k.replay_lsn = 0;
  return encode(k);
}

}  // namespace

void heartbeat(Ctx& c) {
  if (!c.has_lease()) return;
  MemberRecord r = member_record(c);
  auto in_view = c.view.members.find(c.me);
  bool missing = in_view == c.view.members.end() || in_view->second.lease != c.obs.lease.id;
  // Compare with what etcd holds, not with what this node last sent: a write that lost its
  // compare, or whose answer was lost, leaves the older record there, and nothing else would make
  // an idle node write again (FINDINGS.md F24). The driver re-reads after its writes, so a view
  // that misses a landed heartbeat costs one repeated put, not a storm.
  const MemberRecord* held = missing ? nullptr : &in_view->second.value;
  bool identity_changed = !held || without_positions(*held) != without_positions(r);
  bool positions_moved = held && (held->flush_lsn != r.flush_lsn || held->replay_lsn != r.replay_lsn);
  bool due = c.now - c.mem.published_member_ms >= c.cfg.loop_wait_ms;
  if (!identity_changed && !(due && positions_moved)) return;
  std::string body = encode(r);
  kv::Txn t;
  // Never over a record we did not see: another node with our name may have just written one.
  std::string key = c.keys.member(c.me);
  if (in_view == c.view.members.end()) {
    t.compare = {kv::Compare::absent(key)};
  } else if (in_view->second.lease == c.obs.lease.id) {
    t.compare = {kv::Compare::lease_is(key, c.obs.lease.id)};
  } else {
    t.compare = {kv::Compare::mod_revision_is(key, in_view->second.mod_revision)};  // ours, older lease
  }
  t.success = {kv::RequestOp::put(key, body, c.obs.lease.id)};
  if (r.role == Role::Primary && c.holds_leader() && !c.d.fenced) {
    t.success.push_back(kv::RequestOp::put(c.keys.optime(), encode(OptimeRecord{c.local.timeline, c.local.flush_lsn})));
  }
  c.write("heartbeat", std::move(t));
  c.mem.published_member_ms = c.now;
}

std::string name_conflict(const Ctx& c) {
  auto it = c.view.members.find(c.me);
  if (it == c.view.members.end() || (it->second.lease != 0 && it->second.lease == c.obs.lease.id)) return "";
  const MemberRecord& m = it->second.value;
  // A record written before identities existed (no member_id) is taken over by its name's owner.
  if (m.member_id.empty() || m.member_id == c.node.member_id || canaries().foreign_identity) return "";
  return "member name " + c.me + " is held by another node (identity " + m.member_id + ", " + m.host + ":" +
         std::to_string(m.port) + "); this node has identity " +
         (c.node.member_id.empty() ? std::string("(none)") : c.node.member_id) +
         " and will not act under that name: give it another name";
}

// A node that won the race for `leader` (a reclaim, an election) just before it saw its name held
// by another identity would otherwise keep `leader` alive with its lease and stop every election
// (FINDINGS.md F9); its election reports would speak for the name's new owner.
void give_up_name(Ctx& c) {
  if (!c.has_lease()) return;
  kv::Txn t;
  if (c.holds_leader()) {
    t.compare.push_back(kv::Compare::lease_is(c.keys.leader(), c.obs.lease.id));
    t.success.push_back(kv::RequestOp::del(c.keys.leader()));
  }
  for (const auto& [term, by_name] : c.view.reports) {
    auto r = by_name.find(c.me);
    if (r == by_name.end() || r->second.lease != c.obs.lease.id) continue;
    t.compare.push_back(kv::Compare::lease_is(c.keys.election_report(term, c.me), c.obs.lease.id));
    t.success.push_back(kv::RequestOp::del(c.keys.election_report(term, c.me)));
  }
  if (!t.success.empty()) c.write("give up what this node held under the name " + c.me, std::move(t));
}

void restart_request(Ctx& c) {
  auto it = c.view.restart_requests.find(c.me);
  if (it == c.view.restart_requests.end() || c.d.sidecar) return;
  std::string id = "restart-" + std::to_string(it->second.mod_revision);
  if (c.local.sidecar_done_id == id) {
    kv::Txn t;
    t.compare = {kv::Compare::mod_revision_is(c.keys.restart(c.me), it->second.mod_revision)};
    t.success = {kv::RequestOp::del(c.keys.restart(c.me))};
    c.write("restart done", std::move(t));
    return;
  }
  SidecarRequest r;
  r.kind = SidecarRequest::Kind::Restart;
  r.id = id;
  r.reason = "restart requested by an operator";
  c.d.sidecar = r;
}

// An operator's reinit (pg_ha.reinit): this replica is re-cloned from the primary by its sidecar
// (the data directory moved aside, never deleted). It wins over an automatic rewind or re-clone
// of the same step: it is the operator's way out when those do not help. The request id carries
// the key's revision, so a request is carried out once, and its key is deleted when the sidecar
// has finished it (also when the clone failed and the node kept its own data: its result says so).
void reinit_request(Ctx& c) {
  auto it = c.view.reinit_requests.find(c.me);
  if (it == c.view.reinit_requests.end()) return;
  std::string id = "reinit-" + std::to_string(it->second.mod_revision);
  auto drop = [&](std::string what) {
    kv::Txn t;
    t.compare = {kv::Compare::mod_revision_is(c.keys.reinit(c.me), it->second.mod_revision)};
    t.success = {kv::RequestOp::del(c.keys.reinit(c.me))};
    c.write(std::move(what), std::move(t));
  };
  if (c.local.sidecar_done_id == id) return drop("reinit done");
  if (!c.local.in_recovery) return drop("reinit dropped: this node runs as a primary, and a primary is not re-cloned");
  if (c.d.sidecar && c.d.sidecar->kind != SidecarRequest::Kind::Rewind &&
      c.d.sidecar->kind != SidecarRequest::Kind::Reclone)
    return;
  const LeaderRecord* leader = c.leader();
  const MemberRecord* m = leader ? c.member(leader->name) : nullptr;
  if (!leader || leader->name == c.me || !m || m->host.empty()) {
    c.d.reason += "; a reinit waits for a primary with an address";
    return;
  }
  SidecarRequest r;
  r.kind = SidecarRequest::Kind::Reclone;
  r.id = id;
  r.primary = leader->name;
  r.primary_host = m->host;
  r.primary_port = m->port;
  r.reason = "reinit requested by an operator: re-cloning from " + leader->name;
  c.d.sidecar = r;
  c.set(NodeState::Recloning, r.reason);
}

}  // namespace pg_ha::core::detail
