// Rules for a node whose PostgreSQL accepts writes (not in recovery). Such a node is fenced unless
// it holds `leader` under its live lease and `state` names it primary for the leader's term.
#include "core/step_context.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

// Bootstrap: the node that won the `initialize` race starts term 1, once etcd holds the system
// identifier of exactly this data directory.
void bootstrap_leadership(Ctx& c) {
  c.set(NodeState::Bootstrapping, "waiting for the cluster to be initialized");
  const auto& init = c.view.initialize;
  if (!init) return;
  if (init->value.node != c.me) {
    c.set(NodeState::Fenced, "the cluster was initialized by " + init->value.node + ", which has not started it yet");
    return;
  }
  if (init->value.system_identifier != std::to_string(c.local.system_identifier)) {
    c.set(NodeState::Fenced, "system identifier " + std::to_string(c.local.system_identifier) +
                        " differs from the cluster's (" + init->value.system_identifier + ")");
    return;
  }
  if (!c.has_lease()) return;
  StateRecord s;
  s.term = 1;
  s.primary = c.me;
  s.primary_id = c.node.member_id;
  s.timeline = c.local.timeline;
  s.sync_active = c.cfg.synchronous_mode != SyncMode::Off && c.cfg.synchronous_mode_strict;
  if (s.sync_active) {
    s.sync_standbys = {c.me};  // strict from the start: the only node holding anything is us
    s.sync_quorum = 1;
    record_sync_ids(c, StateRecord{}, s);
  }
  kv::Txn t;
  t.compare = {kv::Compare::absent(c.keys.state()), kv::Compare::absent(c.keys.leader())};
  t.success = {kv::RequestOp::put(c.keys.leader(), encode(leader_record(c, 1)), c.obs.lease.id),
               kv::RequestOp::put(c.keys.state(), encode(s)),
               history_put(c, 1, "bootstrap", "", c.me, 0, c.local.flush_lsn)};
  c.write("take leadership for term 1 (bootstrap)", std::move(t));
}

// Lost `leader` (lease expired, e.g. etcd was unreachable) but `state` still names us: nobody was
// promoted, so our WAL is the most advanced of the lineage and we may take `leader` back for the
// same term. The compare on `state` makes this exclusive with any election in progress.
// "Us" is our identity, not just our name: another node that held our name (a replacement, since
// removed) may have won this term, and then our WAL is not the term's (FINDINGS.md F8).
void reclaim_leadership(Ctx& c, const StateRecord& s) {
  c.set(NodeState::Fenced, "lost the leader lease; reclaiming it for term " + std::to_string(s.term));
  if (!c.has_lease()) return;
  kv::Txn t;
  t.compare = {kv::Compare::absent(c.keys.leader()), kv::Compare::mod_revision_is(c.keys.state(), c.view.state->mod_revision)};
  t.success = {kv::RequestOp::put(c.keys.leader(), encode(leader_record(c, s.term)), c.obs.lease.id)};
  c.write("reclaim leadership", std::move(t));
}

// Another node is primary (or is being promoted): stay fenced and have the sidecar turn this
// node into its standby (pg_rewind as needed).
void demote(Ctx& c, const StateRecord& s) {
  std::string primary = c.leader() && c.leader()->name != c.me ? c.leader()->name : s.primary;
  c.fence(primary == c.me ? "waiting for leadership" : primary + " is the primary");
  c.set(NodeState::Demoting, primary + " is primary (term " + std::to_string(s.term) + "); this node must become its standby");
  // Still the lineage's primary, only not under its current lease: nothing to demote, so say so.
  if (primary == c.me) c.set(NodeState::Fenced, "waiting for leadership of term " + std::to_string(s.term) + " under this node's lease");
  if (primary == c.me && !c.leader() && !s.primary_id.empty() && s.primary_id != c.node.member_id) {
    c.set(NodeState::Fenced, "term " + std::to_string(s.term) + " was won by another node named " + c.me + " (identity " +
                        s.primary_id + "): waiting for a new primary");
  }
  const MemberRecord* m = c.member(primary);
  if (primary == c.me || !m || m->host.empty()) return;
  SidecarRequest r;
  r.kind = SidecarRequest::Kind::Demote;
  r.id = "demote-" + std::to_string(s.term) + "-" + primary;
  r.primary = primary;
  r.primary_host = m->host;
  r.primary_port = m->port;
  r.reason = c.d.reason;
  c.d.sidecar = r;
}

// The term's history record holds our position when the term began, but our timeline branched
// where promotion ended recovery, which can be later (e.g. the old primary's shutdown checkpoint
// arrived in between). Replicas decide from it whether they diverged (rules_replica.cpp), and
// they wait for `state.timeline`, which is written after this: so they never rewind for nothing.
void record_branch_point(Ctx& c, const StateRecord& s) {
  auto h = c.view.history.find(s.term);
  if (c.local.timeline_start_lsn == 0 || h == c.view.history.end() || h->second.value.new_primary != c.me ||
      h->second.value.lsn == c.local.timeline_start_lsn) {
    return;
  }
  HistoryRecord fixed = h->second.value;
  fixed.lsn = c.local.timeline_start_lsn;
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(c.keys.history(s.term), h->second.mod_revision)};
  t.success = {kv::RequestOp::put(c.keys.history(s.term), encode(fixed))};
  c.write("record where timeline " + std::to_string(c.local.timeline) + " branched: " + lsn_to_string(fixed.lsn),
          std::move(t));
}

// Leading: unfenced while the last good keep-alive is recent enough (fence early), unless a
// switchover is handing leadership over.
// History is bounded (config history_limit): the primary deletes the oldest entries beyond the
// limit, a few at a time, each only if unchanged since it was read and only while `leader` is
// still held under its lease.
void prune_history(Ctx& c) {
  constexpr size_t kMaxDeletesPerTxn = 32;   // well under etcd's default --max-txn-ops (128)
  size_t limit = static_cast<size_t>(std::max(1, c.cfg.history_limit));
  if (c.view.history.size() <= limit) return;
  size_t excess = std::min(c.view.history.size() - limit, kMaxDeletesPerTxn);
  kv::Txn t;
  t.compare = {kv::Compare::lease_is(c.keys.leader(), c.obs.lease.id)};
  auto it = c.view.history.begin();   // oldest term first
  for (size_t i = 0; i < excess; ++i, ++it) {
    t.compare.push_back(kv::Compare::mod_revision_is(c.keys.history(it->first), it->second.mod_revision));
    t.success.push_back(kv::RequestOp::del(c.keys.history(it->first)));
  }
  c.write("prune history to the newest " + std::to_string(limit) + " entries", std::move(t));
}

// Why the gate is closed when the keep-alive deadline is not in the future.
std::string lapse_reason(const Ctx& c) {
  std::string why = "no successful etcd keep-alive for " + std::to_string(c.now - c.obs.lease.last_ok_sent_ms) + " ms";
  if (c.d.hold_keepalive) return why + "; not renewing the lease, so that a replica can take over";
  bool arming = !c.d.writes.empty() && c.d.writes.back().what.rfind(kArmWhat, 0) == 0;
  return arming ? why + "; re-arming the write gate" : why;
}

void lead(Ctx& c, const StateRecord& s) {
  TimeMs deadline = gate_deadline(c);   // first: it keeps the licence current whatever follows
  c.set(NodeState::Primary, "holds the leader lease for term " + std::to_string(s.term));
  if (sync_write_pending(c)) return;
  if (s.timeline != c.local.timeline) {
    record_branch_point(c, s);
    StateRecord updated = s;
    updated.timeline = c.local.timeline;
    if (updated.primary_id.empty()) updated.primary_id = c.node.member_id;   // a term begun before identities
    if (updated.sync_active) {
      // From now on this node acknowledges commits and holds every earlier one: it alone is
      // complete until standbys are recorded again (if it dies first, nobody else may be
      // promoted automatically, strict or not: I3).
      updated.sync_standbys = {c.me};
      updated.sync_quorum = 1;
    }
    put_sync_state(c, updated, "record timeline " + std::to_string(c.local.timeline));
    c.fence("recording the new timeline before accepting writes");
    c.set(NodeState::Fenced, c.d.fence_reason);
    c.wake_in(50);
    return;
  }
  if (s.request && (s.request->from.empty() || s.request->from == c.me)) {
    switchover(c, s);
    if (c.d.fenced) return;
  } else {
    c.mem.switchover_to.clear();
  }
  if (!sync_names_covered(s, c.local.synchronous_standby_names, c.me)) {
    c.fence("synchronous_standby_names is not covered by the recorded synchronous set yet");
    c.set(NodeState::Fenced, c.d.fence_reason);
    c.wake_in(50);
  } else if (c.now < deadline) {
    c.d.fenced = false;
    c.d.fence_reason.clear();
    c.d.write_deadline_ms = deadline;
    c.d.wake_at_ms = std::min(c.d.wake_at_ms, deadline);
  } else {
    c.fence(lapse_reason(c));
    c.set(NodeState::Fenced, c.d.fence_reason);
  }
  // Reports of an election replicas hold against our silence are theirs to finish: deleting them
  // while fenced could keep a takeover from ever completing.
  if (!c.view.reports.empty() && !c.d.fenced) {
    kv::Txn t;
    t.success = {kv::RequestOp::del_prefix(c.keys.election_prefix())};
    c.write("remove finished election reports", std::move(t));
  }
  prune_history(c);
  manage_sync(c, s);
}

}  // namespace

void primary_side(Ctx& c) {
  const StateRecord* s = c.state();
  if (!s) return bootstrap_leadership(c);
  const LeaderRecord* l = c.leader();
  if (c.holds_leader() && s->primary == c.me && l->term == s->term) return lead(c, *s);
  bool ours = s->primary == c.me && (s->primary_id.empty() || s->primary_id == c.node.member_id);
  if (!l && ours) return reclaim_leadership(c, *s);
  demote(c, *s);
}

}  // namespace pg_ha::core::detail
