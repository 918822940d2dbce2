// The core is a pure function: the same input gives a byte-identical decision and memory.
#include <gtest/gtest.h>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

std::string describe_memory(const NodeMemory& m) {
  return std::to_string(m.leaderless_term) + "|" + std::to_string(m.leaderless_since_ms) + "|" +
         std::to_string(m.published_member_ms) + "|" +
         std::to_string(m.published_optime_ms) + "|" + m.switchover_to + "|" + std::to_string(m.switchover_started_ms) +
         "|" + std::to_string(m.sync_shrink_lsn) + "|" + m.last_reason;
}

// Steps `name` twice on the same view, observation and memory; both outputs must be identical.
void expect_deterministic(World& w, const std::string& name) {
  World::Node& n = w.node(name);
  n.obs.at(w.now);
  EtcdView v1 = w.view();
  EtcdView v2 = w.view();
  NodeMemory mem = n.mem;
  StepOutput a = step(StepInput{w.config, n.cfg, w.keys, v1, n.obs.get()}, mem);
  StepOutput b = step(StepInput{w.config, n.cfg, w.keys, v2, n.obs.get()}, mem);
  EXPECT_EQ(describe(a.decision), describe(b.decision)) << name;
  EXPECT_EQ(describe_memory(a.memory), describe_memory(b.memory)) << name;
  EXPECT_FALSE(describe(a.decision).empty());
}

TEST(Determinism, SameInputSameDecisionInEveryRole) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::Quorum;
  c.synchronous_node_count = 2;
  World w = World::cluster(4, c);
  for (const char* n : {"n1", "n2", "n3", "n4"}) expect_deterministic(w, n);  // leading, following
  w.run("n1");
  expect_deterministic(w, "n1");                                             // sync set growth

  auto req = plan_switchover(w.keys, w.view(), w.config, "n2");
  ASSERT_TRUE(req.ok());
  w.etcd.apply(req->txn);
  w.step("n1");
  w.advance(10);
  expect_deterministic(w, "n1");                                             // hand-over

  World e = World::cluster(4);
  e.kill("n1");
  for (const char* n : {"n2", "n3", "n4"}) expect_deterministic(e, n);       // first report
  for (const char* n : {"n2", "n3", "n4"}) e.run(n);
  for (const char* n : {"n2", "n3", "n4"}) expect_deterministic(e, n);       // winner and losers

  World b;
  b.add_node("n1").obs.primary().timeline(1).sysid(World::kSysId);
  b.put_initialize("n1", std::to_string(World::kSysId));
  expect_deterministic(b, "n1");                                             // bootstrap
}

TEST(Determinism, TwoIdenticalWorldsRunTheSameHistory) {
  auto history = [] {
    World w = World::cluster(3);
    std::string out;
    w.set_flush("n3", World::kBase + 5);
    for (int i = 0; i < 3; ++i) {
      for (const char* n : {"n1", "n2", "n3"}) out += describe(w.run(n).decision);
      w.advance(300);
    }
    w.kill("n1");
    for (int i = 0; i < 6; ++i) {
      for (const char* n : {"n2", "n3"}) out += describe(w.run(n).decision);
      w.advance(300);
    }
    return out;
  };
  std::string first = history();
  EXPECT_EQ(first, history());
  EXPECT_NE(first.find("take leadership for term 2"), std::string::npos);
}

}  // namespace
}  // namespace pg_ha::unit
