// The node state table (core/node_state.cpp): the names users see stay as they are, every state a
// step sets can be entered and left, and docs/protocol.md shows exactly this table. The simulator's
// ST checker proves that steps make no transition outside it (tests/sim/checkers.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "core/node_state.hpp"

namespace pg_ha::core {
namespace {

const std::string kDocPath = std::string(PG_HA_SOURCE_DIR) + "/docs/protocol.md";
const std::string kBegin = "<!-- node states: generated from extension/core/node_state.cpp, checked by tests/unit/node_state_test.cpp -->\n";
const std::string kEnd = "<!-- end of node states -->\n";

StateSet all_of(std::initializer_list<NodeState> list) {
  StateSet s = 0;
  for (NodeState x : list) s |= state_bit(x);
  return s;
}

const StateSet kWorkerOnly = all_of({NodeState::CannotRun, NodeState::Standalone});

TEST(NodeStates, NamesAreThoseUsersSee) {
  // SQL (node_status, members), HTTP answers, pg_hactl, regress and integration tests show these.
  std::vector<std::string> want = {"stopped", "conflict", "bootstrapping", "primary", "fenced", "demoting", "replica",
                                   "streaming", "rewinding", "recloning", "electing", "promoting", "paused",
                                   "cannot_run", "standalone"};
  ASSERT_EQ(node_states().size(), want.size());
  ASSERT_EQ(static_cast<int>(want.size()), kNodeStateCount);
  for (size_t i = 0; i < want.size(); ++i) {
    NodeState s = static_cast<NodeState>(i);
    EXPECT_EQ(node_states()[i].state, s) << "the table is in enum order";
    EXPECT_EQ(state_name(s), want[i]);
    EXPECT_EQ(state_from_name(want[i]), s);
    EXPECT_NE(std::string(node_states()[i].meaning), "");
  }
  EXPECT_EQ(state_from_name("Primary"), std::nullopt);
  EXPECT_EQ(state_from_name(""), std::nullopt);
}

TEST(NodeStates, EveryStepStateIsEnteredAndLeftWorkerStatesNever) {
  StateSet entered = 0, left = 0;
  for (const Transition& t : transitions()) {
    EXPECT_NE(t.from, 0u) << t.why;
    EXPECT_NE(t.to, 0u) << t.why;
    EXPECT_NE(std::string(t.why), "");
    entered |= t.to;
    left |= t.from;
  }
  for (const NodeStateInfo& s : node_states()) {
    bool worker_only = kWorkerOnly & state_bit(s.state);
    EXPECT_EQ(bool(entered & state_bit(s.state)), !worker_only) << s.name;
    EXPECT_EQ(bool(left & state_bit(s.state)), !worker_only) << s.name;
  }
}

TEST(NodeStates, TransitionRules) {
  using S = NodeState;
  EXPECT_TRUE(transition_allowed(std::nullopt, S::Streaming)) << "a worker's first step remembers nothing";
  EXPECT_TRUE(transition_allowed(S::Fenced, S::Fenced)) << "staying put";
  EXPECT_TRUE(transition_allowed(S::Streaming, S::Electing));
  EXPECT_TRUE(transition_allowed(S::Promoting, S::Fenced));
  EXPECT_TRUE(transition_allowed(S::Primary, S::Conflict));
  // A leading primary becomes a replica only by being demoted first.
  EXPECT_FALSE(transition_allowed(S::Primary, S::Streaming));
  EXPECT_TRUE(transition_allowed(S::Demoting, S::Replica)) << "the demote is done";
  // A replica leads only by promoting; a promotion that lands after the step moved on (the
  // simulator found it after the merges: pg_promote is asynchronous) starts fenced.
  EXPECT_FALSE(transition_allowed(S::Streaming, S::Primary));
  EXPECT_TRUE(transition_allowed(S::Electing, S::Fenced));
  EXPECT_FALSE(transition_allowed(S::Electing, S::Primary));
  EXPECT_FALSE(transition_allowed(S::Primary, S::Bootstrapping)) << "the cluster state never goes away";
  // A replica asked its sidecar to rewind (or re-clone), then the leader's lease ran out while the
  // operator had paused automatic failover (simulator seeds 27908 and 47900).
  EXPECT_TRUE(transition_allowed(S::Rewinding, S::Paused));
  EXPECT_TRUE(transition_allowed(S::Recloning, S::Paused));
  // The worker's own states are never a step's.
  EXPECT_FALSE(transition_allowed(std::nullopt, S::CannotRun));
  EXPECT_FALSE(transition_allowed(S::Standalone, S::Standalone));
  EXPECT_FALSE(transition_allowed(S::CannotRun, S::Replica));
}

// ---- the table in docs/protocol.md ----

std::string names(StateSet set) {
  StateSet step_states = ((StateSet{1} << kNodeStateCount) - 1) & ~kWorkerOnly;
  if (set == step_states) return "any";
  std::string out;
  for (NodeState s : states_in(set)) out += (out.empty() ? "`" : ", `") + std::string(state_name(s)) + "`";
  return out;
}

std::string render() {
  std::ostringstream o;
  o << kBegin << "\n| state | meaning |\n|---|---|\n";
  for (const NodeStateInfo& s : node_states()) o << "| `" << s.name << "` | " << s.meaning << " |\n";
  o << "\n| from | to | when |\n|---|---|---|\n";
  for (const Transition& t : transitions()) o << "| " << names(t.from) << " | " << names(t.to) << " | " << t.why << " |\n";
  o << "\n" << kEnd;
  return o.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(NodeStates, ProtocolDocShowsTheTable) {
  std::string doc = read_file(kDocPath);
  ASSERT_FALSE(doc.empty()) << kDocPath;
  size_t begin = doc.find(kBegin);
  size_t end = doc.find(kEnd, begin == std::string::npos ? 0 : begin);
  ASSERT_NE(begin, std::string::npos) << "docs/protocol.md has no node state table";
  ASSERT_NE(end, std::string::npos) << "docs/protocol.md: the node state table has no end marker";
  std::string shown = doc.substr(begin, end + kEnd.size() - begin);
  if (shown != render() && std::getenv("PG_HA_WRITE_DOCS")) {
    std::ofstream(kDocPath) << doc.substr(0, begin) << render() << doc.substr(end + kEnd.size());
    return;
  }
  EXPECT_EQ(shown, render()) << "docs/protocol.md is out of date; PG_HA_WRITE_DOCS=1 "
                                "build/tests/unit/pg_ha_unit_tests --gtest_filter=NodeStates.* rewrites it";
}

}  // namespace
}  // namespace pg_ha::core
