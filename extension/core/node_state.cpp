#include "core/node_state.hpp"

#include <ostream>

#include "common/no_postgres.hpp"

namespace pg_ha::core {

namespace {

using S = NodeState;

// A primary's states (PostgreSQL not in recovery) and a replica's (in recovery). Within one worker
// a node moves from the second group to the first only by promotion; back only through a restart
// of PostgreSQL, which starts a new worker.
constexpr StateSet kPrimarySide = states(S::Bootstrapping, S::Primary, S::Fenced, S::Demoting);
constexpr StateSet kReplicaSide =
    states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Electing, S::Promoting, S::Paused);
constexpr StateSet kStepStates = kPrimarySide | kReplicaSide | states(S::Stopped, S::Conflict);

}  // namespace

const std::vector<NodeStateInfo>& node_states() {
  static const std::vector<NodeStateInfo> table = {
      {S::Stopped, "stopped", "PostgreSQL is not running; the node is fenced"},
      {S::Conflict, "conflict", "another node holds this node's name (another identity); fenced, touches nothing of the name"},
      {S::Bootstrapping, "bootstrapping", "no cluster state in etcd yet; the node that won the initialize race takes term 1"},
      {S::Primary, "primary", "holds the leader lease for the term in `state`; accepts writes"},
      {S::Fenced, "fenced", "a primary that refuses writes for now: leader lease lost or lapsed, switchover hand-over, a new timeline or synchronous set not recorded yet, or a cluster initialized by another node"},
      {S::Demoting, "demoting", "a primary whose term another node won; the sidecar restarts it as that node's standby"},
      {S::Replica, "replica", "in recovery, following the primary but not streaming from it (yet), or waiting"},
      {S::Streaming, "streaming", "in recovery, receiving WAL from the primary"},
      {S::Rewinding, "rewinding", "the sidecar is asked to pg_rewind: its WAL diverged from the primary's, or streaming is stuck"},
      {S::Recloning, "recloning", "the sidecar is asked to re-clone: a rewind did not unstick it, or an operator asked (pg_ha.reinit); the old data is kept aside"},
      {S::Electing, "electing", "no leader, or a silent one: reports its position and elects the best candidate"},
      {S::Promoting, "promoting", "won the term, or a manual failover to it is requested; promotes once the term is committed"},
      {S::Paused, "paused", "no leader and automatic failover is paused"},
      {S::CannotRun, "cannot_run", "set by the worker: its settings do not let it run (fenced; retries every 5 s and on reload)"},
      {S::Standalone, "standalone", "set by the worker: no etcd configured; never fenced"},
  };
  return table;
}

const char* state_name(NodeState state) {
  int i = static_cast<int>(state);
  return i >= 0 && i < kNodeStateCount ? node_states()[static_cast<size_t>(i)].name : "?";
}

std::optional<NodeState> state_from_name(const std::string& name) {
  for (const NodeStateInfo& s : node_states()) {
    if (name == s.name) return s.state;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, NodeState state) { return out << state_name(state); }

std::vector<NodeState> states_in(StateSet set) {
  std::vector<NodeState> out;
  for (int i = 0; i < kNodeStateCount; ++i) {
    if (set & (StateSet{1} << i)) out.push_back(static_cast<NodeState>(i));
  }
  return out;
}

// The order of rows is the order of the docs' table.
const std::vector<Transition>& transitions() {
  static const std::vector<Transition> table = {
      {kStepStates, states(S::Stopped), "PostgreSQL stopped under a driver that outlives it"},
      {states(S::Stopped), kStepStates, "PostgreSQL runs again"},
      {kStepStates, states(S::Conflict), "another identity's live member record holds the name"},
      {states(S::Conflict), kStepStates, "the name is free again: the node resumes where the world stands"},
      // A primary.
      {states(S::Bootstrapping), states(S::Primary, S::Fenced, S::Demoting), "term 1 is taken by this node, or by another"},
      {states(S::Primary), states(S::Fenced), "lease lost or gate lapsed, switchover, or a new synchronous set to record"},
      {states(S::Fenced), states(S::Primary), "leads again: lease kept or reclaimed, keep-alive on time, set recorded"},
      {states(S::Primary, S::Fenced), states(S::Demoting), "another node holds the term"},
      {states(S::Demoting), states(S::Fenced), "the term's winner held this name under another identity"},
      {states(S::Demoting), states(S::Replica, S::Streaming, S::Rewinding, S::Recloning),
       "the demote is done: postgres runs as a standby (the simulator's sidecar restarts it under the same worker)"},
      // A replica.
      {states(S::Replica), states(S::Streaming), "the WAL receiver connected to the primary"},
      {states(S::Streaming), states(S::Replica), "the WAL receiver lost the primary, or another primary is followed"},
      {states(S::Replica, S::Streaming), states(S::Rewinding, S::Recloning), "diverged from the primary's history, or stuck"},
      {states(S::Rewinding, S::Recloning), states(S::Replica, S::Streaming), "the request is moot: another primary, or WAL moves again"},
      {states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Paused), states(S::Electing),
       "the leader key is gone, or the leader is silent (fast takeover)"},
      {states(S::Electing, S::Paused), states(S::Replica, S::Streaming, S::Rewinding, S::Recloning),
       "a leader appeared: follow it (rewind or re-clone when diverged or stuck)"},
      {states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Electing), states(S::Paused),
       "no leader and automatic failover paused (a rewind or re-clone asked for before goes on)"},
      {states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Electing, S::Paused), states(S::Promoting),
       "won the election, or a manual failover to this node is requested"},
      {states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Electing, S::Paused), states(S::Fenced, S::Demoting),
       "a promotion asked for earlier ended after the step moved on (pg_promote is asynchronous): fenced or demoted"},
      {states(S::Promoting), states(S::Replica, S::Streaming, S::Rewinding, S::Recloning, S::Electing, S::Paused),
       "the manual failover was refused or withdrawn, or the term went to another node"},
      {states(S::Promoting), states(S::Primary, S::Fenced, S::Demoting), "promotion ended recovery: a primary's states"},
  };
  return table;
}

bool transition_allowed(std::optional<NodeState> from, NodeState to) {
  if (!(kStepStates & state_bit(to))) return false;
  if (!from || *from == to) return true;
  for (const Transition& t : transitions()) {
    if ((t.from & state_bit(*from)) && (t.to & state_bit(to))) return true;
  }
  return false;
}

}  // namespace pg_ha::core
