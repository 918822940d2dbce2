// Internal to the core: the state one step works on, shared by the rule files.
#pragma once

#include <string>

#include "core/step.hpp"

namespace pg_ha::core::detail {

struct Ctx {
  Ctx(const StepInput& input, const NodeMemory& memory);

  const StepInput& in;
  const ClusterConfig& cfg;
  const NodeConfig& node;
  const Keys& keys;
  const EtcdView& view;
  const Observation& obs;
  const LocalObservation& local;
  const std::string& me;
  TimeMs now;
  NodeMemory mem;
  Decision d;

  bool has_lease() const { return obs.lease.id != 0 && obs.lease.last_ok_sent_ms >= 0; }
  const StateRecord* state() const { return view.state ? &view.state->value : nullptr; }
  const LeaderRecord* leader() const { return view.leader ? &view.leader->value : nullptr; }
  const MemberRecord* member(const std::string& name) const;
  // This node holds `leader` under its current lease.
  bool holds_leader() const;

  void write(std::string what, kv::Txn txn) { d.writes.push_back(EtcdWrite{std::move(what), std::move(txn)}); }
  void wake_in(TimeMs ms) { d.wake_at_ms = std::min(d.wake_at_ms, now + ms); }
  void set(NodeState state, std::string reason) {
    d.state = state;
    d.reason = std::move(reason);
  }
  void fence(std::string reason) {
    d.fenced = true;
    d.write_deadline_ms = 0;
    d.fence_reason = std::move(reason);
  }
};

// The state a term starts with. In synchronous mode the recorded set starts as the nodes known to
// hold every acknowledged commit: the new primary, and on a hand-over the old primary too, each
// alone sufficient (quorum = set size). The new primary then rebuilds the set by the usual rules.
StateRecord new_term_state(const Ctx& c, const StateRecord& old, const std::string& primary,
                           const std::string& also_complete = "");
// F12: fills next.sync_ids for next.sync_standbys. A name that stays in the set keeps the identity
// recorded with it; a name joining takes its holder's identity now (ours, the new primary's, or
// its member record's).
void record_sync_ids(const Ctx& c, const StateRecord& old, StateRecord& next);
kv::RequestOp history_put(const Ctx& c, int64_t term, const std::string& reason, const std::string& old_primary,
                          const std::string& new_primary, uint32_t old_timeline, Lsn lsn);

// Rule groups, one file each.
void primary_side(Ctx& c);    // rules_primary.cpp: PostgreSQL is not in recovery
void replica_side(Ctx& c);    // rules_replica.cpp: PostgreSQL is in recovery
void switchover(Ctx& c, const StateRecord& s);  // rules_switchover.cpp: the primary's half
void manage_sync(Ctx& c, const StateRecord& s); // rules_sync.cpp: I3 ordering
// I3: the recorded set covers this synchronous_standby_names (every named standby recorded, the
// recorded quorum no larger). A primary whose setting is not covered (e.g. stale after promotion)
// stays fenced until manage_sync has made it so.
bool sync_names_covered(const StateRecord& s, const std::string& setting, const std::string& primary);
// Writes `next` as the new `state` (compare: unchanged since the view) and remembers it as a
// pending change of the recorded synchronous set.
void put_sync_state(Ctx& c, const StateRecord& next, const std::string& why);
// True while our last change of the recorded set is not known to have landed or died: then the
// primary stays fenced and sends that same transaction again (idempotent: it lands at most once).
bool sync_write_pending(Ctx& c);
void heartbeat(Ctx& c);       // rules_heartbeat.cpp: member record and optime
// rules_heartbeat.cpp: why another node holds our name ("" = it does not): a member record under
// our name with another identity, under a lease that is not ours.
std::string name_conflict(const Ctx& c);
// rules_heartbeat.cpp: in conflict, deletes what this node still holds under the name with its own
// lease (`leader`, election reports), each only while it is under that lease.
void give_up_name(Ctx& c);
void restart_request(Ctx& c); // rules_heartbeat.cpp: operator restart requests
void reinit_request(Ctx& c);  // rules_heartbeat.cpp: operator reinit requests
// rules_gate.cpp: the leading primary's write deadline with the sticky fence (0 = lapsed); emits
// the arm when lapsed. new_arm_stamp: the stamp for a write of `leader` by us (0 when fast
// takeover is off), remembered so that we know the write when the view shows it.
TimeMs gate_deadline(Ctx& c);
TimeMs new_arm_stamp(Ctx& c);
// `leader` = us for `term`, armed (stamped) when fast takeover is on: bootstrap, reclaim, election.
LeaderRecord leader_record(Ctx& c, int64_t term);
// rules_takeover.cpp: remember when the leader key's revision changed; why the leader may be
// taken over from now ("" = it may not).
void note_leader_revision(Ctx& c);
std::string leader_silence(Ctx& c);

}  // namespace pg_ha::core::detail
