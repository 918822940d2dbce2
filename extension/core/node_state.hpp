// The states a node shows (status, member records, logs) and the transitions one step may make
// between them: one table each, in node_state.cpp, rendered in docs/protocol.md ("Node states").
// The names are an interface: SQL, HTTP health answers, pg_hactl and the tests show them as is.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace pg_ha::core {

enum class NodeState : uint8_t {
  // Set by the core's step.
  Stopped,
  Conflict,
  Bootstrapping,
  Primary,
  Fenced,
  Demoting,
  Replica,
  Streaming,
  Rewinding,
  Recloning,
  Electing,
  Promoting,
  Paused,
  // Set by the worker, never by a step: no transition leads to or from them.
  CannotRun,
  Standalone,
};
constexpr int kNodeStateCount = static_cast<int>(NodeState::Standalone) + 1;

struct NodeStateInfo {
  NodeState state;
  const char* name;       // as users see it
  const char* meaning;    // one line for the docs
};
// Every state once, in enum order.
const std::vector<NodeStateInfo>& node_states();
const char* state_name(NodeState state);
std::optional<NodeState> state_from_name(const std::string& name);
std::ostream& operator<<(std::ostream& out, NodeState state);   // its name (test failure output)

// A set of states, one bit each.
using StateSet = uint32_t;
constexpr StateSet state_bit(NodeState s) { return StateSet{1} << static_cast<int>(s); }
template <class... S>
constexpr StateSet states(S... s) { return (state_bit(s) | ...); }
std::vector<NodeState> states_in(StateSet set);

// One row: a step may move a node from any state in `from` to any state in `to`.
struct Transition {
  StateSet from;
  StateSet to;
  const char* why;
};
const std::vector<Transition>& transitions();

// Whether one step may move a node from `from` to `to`. Staying in a state is always allowed, and
// a worker's first step (no `from`: it remembers nothing) may end in any state a step sets.
bool transition_allowed(std::optional<NodeState> from, NodeState to);

}  // namespace pg_ha::core
