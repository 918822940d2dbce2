// Rules for a node in recovery: follow the primary, promote when etcd says so (I2), and take
// part in elections when `leader` is gone.
#include <algorithm>

#include "core/canaries.hpp"
#include "core/candidates.hpp"
#include "core/step_context.hpp"
#include "core/takeover.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

// Promotion takes PostgreSQL tens of milliseconds; the worker only learns it ended by looking.
constexpr TimeMs kPromotionPollMs = 20;

// A standby still on the old timeline with WAL past the new primary's branch point has
// diverged; streaming cannot fix that, pg_rewind can. A standby at or before it is an ancestor
// and only needs its upstream changed (no restart).
// The branch point that matters is the one taken from our timeline, whichever term it was. For
// the current term it is known once the new primary has recorded its timeline in `state`: it
// first corrects `history/<term>.lsn` to where its timeline really branched (rules_primary.cpp).
const HistoryRecord* diverged_from(const Ctx& c, const StateRecord& s) {
  for (auto it = c.view.history.rbegin(); it != c.view.history.rend(); ++it) {
    const HistoryRecord& r = it->second.value;
    if (r.old_timeline != 0 && r.old_timeline == c.local.timeline && r.reason != "bootstrap") {
      bool branch_known = r.term != s.term || s.timeline != 0;
      // Replayed, not received: WAL received past the branch point but not replayed is never
      // replayed once the new timeline is known (recovery switches timelines at the branch), so
      // only the replay position can have diverged. pg_rewind judges the same way (it says "no
      // rewind was needed" for such a standby), and a standby that replays past the branch
      // before it learns of the new timeline gets stuck and is rewound (recover_if_stuck).
      return branch_known && c.local.replay_lsn > r.lsn ? &r : nullptr;
    }
  }
  return nullptr;
}

// How long a replica may stay behind its primary without receiving anything before it is
// rewound (or re-cloned). Long enough for a restarted primary or a reconnect (retries every
// 500 ms) and a timeline switch; short enough that nobody stays stuck for minutes.
TimeMs stuck_bound_ms(const ClusterConfig& cfg) { return std::max<TimeMs>(5000, 5 * cfg.loop_wait_ms); }

SidecarRequest request_to_follow(SidecarRequest::Kind kind, std::string id, const std::string& primary,
                                 const MemberRecord& m, std::string reason) {
  SidecarRequest r;
  r.kind = kind;
  r.id = std::move(id);
  r.primary = primary;
  r.primary_host = m.host;
  r.primary_port = m.port;
  r.reason = std::move(reason);
  return r;
}

// A replica whose WAL receiver cannot stream from the leader (its history diverged in a way the
// history records do not show: incorrect prev-link, not a child of the timeline; or the WAL it
// needs is gone) makes no progress while the primary is ahead. After stuck_bound_ms it asks the
// sidecar to rewind; if it is stuck again after that rewind (at the same place or another), to
// re-clone (the old data is kept aside). Each position gets its own request ids, so nothing
// repeats in a loop. The bound counts from when this primary of this term was first seen ahead:
// a replica is never rewound to a primary it has not had the time to stream from (F25).
void recover_if_stuck(Ctx& c, const StateRecord& s, const std::string& primary, const MemberRecord& m) {
  bool leading = c.leader() && c.leader()->name == primary && s.primary == primary && s.timeline != 0 &&
                 m.role == Role::Primary && m.postgres_running;
  bool behind = c.local.timeline < m.timeline || (c.local.timeline == m.timeline && c.local.flush_lsn < m.flush_lsn);
  bool moved = c.local.timeline != c.mem.stuck_timeline || c.local.flush_lsn != c.mem.stuck_lsn;
  bool new_primary = c.mem.stuck_primary != primary || c.mem.stuck_term != s.term;
  if (!leading || !behind || moved || new_primary || c.mem.stuck_since_ms < 0) {
    c.mem.stuck_timeline = c.local.timeline;
    c.mem.stuck_lsn = c.local.flush_lsn;
    c.mem.stuck_primary = primary;
    c.mem.stuck_term = s.term;
    c.mem.stuck_since_ms = leading && behind ? c.now : -1;
    return;
  }
  TimeMs stuck_ms = c.now - c.mem.stuck_since_ms;
  std::string where = "at " + std::to_string(c.local.timeline) + "/" + lsn_to_string(c.local.flush_lsn) + ", " +
                      primary + " at " + std::to_string(m.timeline) + "/" + lsn_to_string(m.flush_lsn);
  if (stuck_ms < stuck_bound_ms(c.cfg)) {
    c.set(NodeState::Replica, "following " + primary + ", but no WAL received for " + std::to_string(stuck_ms) + " ms (" + where + ")");
    c.wake_in(stuck_bound_ms(c.cfg) - stuck_ms);
    return;
  }
  std::string prefix = "unstick-" + std::to_string(s.term) + "-" + primary + "-";
  std::string id = prefix + std::to_string(c.local.timeline) + "-" + lsn_to_string(c.local.flush_lsn);
  // A rewind for this term and primary already ran and the replica is stuck again, wherever:
  // (a rewind restarts it, and replay may then stop short of where it stood).
  const std::string& done = c.local.sidecar_done_id;
  bool rewound = done.rfind(prefix, 0) == 0 && done.find("-reclone", prefix.size()) == std::string::npos;
  std::string why = "cannot stream from " + primary + " for " + std::to_string(stuck_ms / 1000) + " s (" + where + ")";
  c.d.sidecar = rewound ? request_to_follow(SidecarRequest::Kind::Reclone, id + "-reclone", primary, m,
                                            why + "; a rewind did not help: re-cloning")
                        : request_to_follow(SidecarRequest::Kind::Rewind, id, primary, m, why + ": rewinding");
  c.set(rewound ? NodeState::Recloning : NodeState::Rewinding, c.d.sidecar->reason);
}

void follow(Ctx& c, const StateRecord& s, const std::string& primary) {
  const MemberRecord* m = c.member(primary);
  if (!m || m->host.empty()) {
    c.set(NodeState::Replica, "waiting for the address of primary " + primary);
    return;
  }
  // The name can pass to another node, the term cannot: whoever holds the primary's name under
  // another identity is not this term's primary, and its WAL need not hold what the term's
  // primary acknowledged. Streaming from it, or rewinding to it, could throw away acknowledged
  // commits this node holds (I3; FINDINGS F12, seed 2614).
  if (!s.primary_id.empty() && !m->member_id.empty() && m->member_id != s.primary_id && s.primary == primary) {
    c.set(NodeState::Replica, "not following " + primary + ": its name is held by identity " + m->member_id +
                         ", not by the term's primary " + s.primary_id);
    return;
  }
  c.d.follow = FollowTarget{primary, m->host, m->port};
  bool streaming = c.local.receiver_streaming && c.local.upstream == primary;
  NodeState shown = streaming ? NodeState::Streaming : NodeState::Replica;
  if (streaming && canaries().stray_state) shown = NodeState::Primary;
  c.set(shown, (streaming ? "streaming from " : "following ") + primary);
  if (const HistoryRecord* branch = diverged_from(c, s)) {
    c.d.sidecar = request_to_follow(SidecarRequest::Kind::Rewind, "rewind-" + std::to_string(s.term) + "-" + primary,
                                    primary, *m, "WAL diverged from " + primary + "'s history at " + lsn_to_string(branch->lsn));
    c.set(NodeState::Rewinding, c.d.sidecar->reason);
    return;
  }
  recover_if_stuck(c, s, primary, *m);
}

// The one transaction that makes this node primary for `term` (I2): `leader` must be free under
// our lease, `state` unchanged since we read it, and (elections) no report newer than our view.
void take_leadership(Ctx& c, const StateRecord& s, const std::string& why, bool election) {
  int64_t term = s.term + 1;
  kv::Txn t;
  // A silent leader (fast takeover) is replaced only at the revision whose silence we measured:
  // an arm by the old primary changes it, and etcd lets exactly one of the two through.
  kv::Compare leader = c.view.leader ? kv::Compare::mod_revision_is(c.keys.leader(), c.view.leader->mod_revision)
                                     : kv::Compare::absent(c.keys.leader());
  t.compare = {leader, kv::Compare::mod_revision_is(c.keys.state(), c.view.state->mod_revision)};
  if (election) {
    t.compare.push_back(kv::Compare::prefix_unchanged_since(c.keys.election_term_prefix(term), c.view.revision));
    // A ranged compare does not see deletions: our own report, on which the decision rests,
    // must still be there (it goes when our lease expires, and we re-report under the new one).
    auto mine = c.view.reports.find(term);
    int64_t rev = mine == c.view.reports.end() || !mine->second.count(c.me) ? 0 : mine->second.at(c.me).mod_revision;
    t.compare.push_back(kv::Compare::mod_revision_is(c.keys.election_report(term, c.me), rev));
  }
  if (canaries().no_term_compare) t.compare.clear();
  StateRecord next = new_term_state(c, s, c.me);
  t.success = {kv::RequestOp::put(c.keys.leader(), encode(leader_record(c, term)), c.obs.lease.id),
               kv::RequestOp::put(c.keys.state(), encode(next)),
               history_put(c, term, why, s.primary, c.me, c.local.timeline, c.local.flush_lsn),
               kv::RequestOp::del_prefix(c.keys.election_prefix())};
  c.write("take leadership for term " + std::to_string(term) + " (" + why + ")", std::move(t));
}

// Whether etcd can still say we lead, whatever our view shows (F19: a winner cut off before it
// promoted may have been taken over since, and its first step after the heal runs on its old
// view). An armed `leader` (fast takeover) may be replaced once our lease has been silent long
// enough: promote only while our write gate is open, which after an unused window takes a re-arm
// through the compare on the key's revision, and a takeover makes that fail. An unarmed one goes
// only with our lease: a keep-alive answered within the gate's window proves it is still there.
bool may_promote(Ctx& c, const LeaderRecord& l) {
  if (l.arm != 0) return gate_deadline(c) > c.now;
  return write_deadline_after_keepalive(c.cfg, c.obs.lease.last_ok_sent_ms, c.obs.lease.granted_ttl_s) > c.now;
}

// LSN 0 (and timeline 0) is no position: the worker starts before recovery has set it.
bool position_known(const Ctx& c) { return c.local.flush_lsn != 0 && c.local.timeline != 0; }

bool ahead_of(const Ctx& c, const ElectionReport& r) {
  return c.local.timeline > r.timeline || (c.local.timeline == r.timeline && c.local.flush_lsn > r.lsn);
}

// Files our position for `term`, or moves our report (at `rev`, 0 = none yet) forward to it.
void report_position(Ctx& c, int64_t term, int64_t rev) {
  ElectionReport r;
  r.name = c.me;
  r.term = term;
  r.timeline = c.local.timeline;
  r.lsn = c.local.flush_lsn;
  r.tags = c.node.tags;
  r.member_id = c.node.member_id;
  std::string key = c.keys.election_report(term, c.me);
  kv::Txn t;
  t.compare = {rev == 0 ? kv::Compare::absent(key) : kv::Compare::mod_revision_is(key, rev)};
  t.success = {kv::RequestOp::put(key, encode(r), c.obs.lease.id)};
  c.write((rev == 0 ? "report position for term " : "refresh position for term ") + std::to_string(term), std::move(t));
}

// Reports our position for `term`, and refreshes the report while the position moves on (replay
// after a restart starts low; a report frozen there made the node look far behind for good).
// Returns whether the view shows our current position. Every replica reports, promotable or not:
// a nofailover member of the synchronous set may be the one holding the newest acknowledged
// commits, and the election must know it (I3).
const Versioned<ElectionReport>* report_under_my_name(const Ctx& c, int64_t term) {
  auto reports = c.view.reports.find(term);
  if (reports == c.view.reports.end()) return nullptr;
  auto it = reports->second.find(c.me);
  return it == reports->second.end() ? nullptr : &it->second;
}

// The report filed under our name by another node (another identity): two servers share the name,
// and both their member records may have expired (an etcd outage), so neither is in conflict yet.
// That report is not ours to refresh, nor to win with: our transaction would pass its compare on
// the report's revision and promote us on the other's position (I4; seed 36205).
const ElectionReport* foreign_report(const Ctx& c, int64_t term) {
  const Versioned<ElectionReport>* r = report_under_my_name(c, term);
  return r && r->value.member_id != c.node.member_id ? &r->value : nullptr;
}

bool report_once(Ctx& c, int64_t term) {
  if (!position_known(c) || foreign_report(c, term)) return false;
  const Versioned<ElectionReport>* mine = report_under_my_name(c, term);
  bool current = mine && !ahead_of(c, mine->value);
  if (!current && c.has_lease()) report_position(c, term, mine ? mine->mod_revision : 0);
  return current;
}

void elect(Ctx& c, const StateRecord& s, const std::string& why_open = "no leader") {
  int64_t term = s.term + 1;
  if (c.mem.leaderless_term != term) {
    c.mem.leaderless_term = term;
    c.mem.leaderless_since_ms = c.now;
  }
  bool reported = report_once(c, term);
  TimeMs wait_end = c.mem.leaderless_since_ms + c.cfg.election_wait_ms;
  ElectionOutcome outcome = decide_election(c.cfg, c.view, term, c.now >= wait_end);
  std::string waiting = position_known(c) ? "" : " (this node waits for recovery to set its position before it reports)";
  if (const ElectionReport* other = foreign_report(c, term)) {
    waiting = " (the report under this node's name is another node's, identity " + other->member_id +
              ": two servers share the name; this one does not take part)";
  }
  c.set(NodeState::Electing, why_open + "; election for term " + std::to_string(term) + ": " + outcome.reason + waiting);
  if (c.now < wait_end) c.d.wake_at_ms = std::min(c.d.wake_at_ms, wait_end);
  if (outcome.winner == c.me && reported && c.has_lease()) take_leadership(c, s, "failover", true);
}

void manual_failover(Ctx& c, const StateRecord& s) {
  c.set(NodeState::Promoting, "manual failover to this node requested");
  bool checked = s.sync_active && !s.request->force;
  if (checked) {
    auto in_set = std::find(s.sync_standbys.begin(), s.sync_standbys.end(), c.me) != s.sync_standbys.end();
    if (!in_set) {
      c.set(NodeState::Replica, "manual failover refused: not in the synchronous set and not forced");
      return;
    }
    // A member of a quorum set need not hold every acknowledged commit: like an election, wait
    // for enough reports from the set and take leadership only if none is ahead of us (I3).
    bool reported = report_once(c, s.term + 1);
    Candidate me{c.me, c.local.timeline, c.local.flush_lsn, c.node.tags};
    if (auto objection = sync_set_objection(c.view, s.term + 1, me)) {
      c.set(NodeState::Promoting, "manual failover to this node requested; waiting: " + *objection);
      c.wake_in(c.cfg.loop_wait_ms);
      return;
    }
    if (!reported) return;
  }
  // The ranged compare on the reports (as in an election) keeps a report we did not see from
  // arriving unnoticed between our decision and the transaction.
  if (c.has_lease()) take_leadership(c, s, "manual failover", checked);
}

}  // namespace

void replica_side(Ctx& c) {
  const StateRecord* s = c.state();
  if (!s) {
    c.set(NodeState::Replica, "waiting for the cluster to be bootstrapped");
    return;
  }
  const LeaderRecord* l = c.leader();
  note_leader_revision(c);
  if (l && l->name == c.me) {
    bool won = c.holds_leader() && s->primary == c.me && s->term == l->term;
    if (won && may_promote(c, *l)) {
      c.d.promote = true;
      c.set(NodeState::Promoting, "won term " + std::to_string(s->term) + "; promoting");
      c.wake_in(kPromotionPollMs);   // writes resume only once we see recovery end: look often
    } else if (won) {
      c.set(NodeState::Replica, "won term " + std::to_string(s->term) +
                                    ", but the win's window passed before promoting: promoting once the write gate is re-armed");
    } else {
      c.set(NodeState::Replica, "leader key names this node under another lease; waiting");
    }
    return;
  }
  if (l) {
    follow(c, *s, l->name);
    std::string silence = s->paused || s->request ? "" : leader_silence(c);
    if (!silence.empty()) elect(c, *s, silence);   // keep streaming from it meanwhile
    return;
  }
  if (!s->primary.empty() && s->primary != c.me) follow(c, *s, s->primary);  // keep streaming meanwhile
  if (s->request && s->request->failover && s->request->to == c.me) return manual_failover(c, *s);
  if (s->paused) {
    // A manual failover to another member may need our position (I3), paused or not.
    if (s->request && s->request->failover) report_once(c, s->term + 1);
    c.set(NodeState::Paused, "no leader, and automatic failover is paused");
    return;
  }
  elect(c, *s);
}

}  // namespace pg_ha::core::detail
