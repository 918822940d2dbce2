// A corrupt or newer-version record in etcd must make the core fail safe: fenced, no promotion,
// and every transaction it sends still guarded by compares that the real key defeats.
#include <gtest/gtest.h>

#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// Steps every node a few times, applying their writes; returns true if anyone promoted.
bool anyone_promotes(World& w, int n, int rounds) {
  bool promoted = false;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 1; i <= n; ++i) promoted = w.run("n" + std::to_string(i)).decision.promote || promoted;
    w.advance(500);
  }
  return promoted;
}

TEST(HostileView, UnreadableLeaderKeyNeverLetsAReplicaTakeOver) {
  World w = World::cluster(3);
  w.put_leader("n1", 1);
  w.etcd.put(w.keys.leader(), R"({"version":2,"name":"n1","term":1})", w.lease_of("n1"));  // a newer pg_ha
  EtcdView v = w.view();
  EXPECT_FALSE(v.leader.has_value());
  EXPECT_EQ(v.problems.size(), 1u);
  EXPECT_FALSE(anyone_promotes(w, 3, 10));
  EXPECT_EQ(w.state().term, 1) << "no take-leadership transaction can succeed over the existing key";
  Decision p = w.step("n1").decision;
  EXPECT_TRUE(p.fenced) << "the primary cannot prove it leads: fail safe";
  EXPECT_EQ(p.write_deadline_ms, 0);
}

TEST(HostileView, UnreadableStateKeyFencesAndPromotesNobody) {
  World w = World::cluster(3);
  w.etcd.put(w.keys.state(), "{\"version\":1,\"term\":\"one\"}");
  EXPECT_FALSE(w.view().state.has_value());
  EXPECT_FALSE(anyone_promotes(w, 3, 10));
  Decision p = w.step("n1").decision;
  EXPECT_TRUE(p.fenced);
  EXPECT_EQ(p.write_deadline_ms, 0);
  EXPECT_EQ(decode_leader(w.etcd.get(w.keys.leader())->value)->name, "n1") << "nothing overwrote the leader";
}

TEST(HostileView, UnreadableMemberRecordIsSkipped) {
  World w = World::cluster(3);
  w.etcd.put(w.keys.member("n3"), "garbage", w.lease_of("n3"));
  EtcdView v = w.view();
  EXPECT_EQ(v.members.count("n3"), 0u);
  EXPECT_EQ(v.members.count("n2"), 1u);
  Decision p = w.step("n1").decision;
  EXPECT_FALSE(p.fenced) << "one corrupt member record does not stop the primary";
  Decision own = w.step("n3").decision;
  EXPECT_NE(find_write(own, "heartbeat"), nullptr) << "n3 rewrites its own record";
}

TEST(HostileView, UnreadableReportAndHistoryRecordsAreSkipped) {
  World w = World::cluster(3);
  w.etcd.put(w.keys.history(1), "garbage");
  w.etcd.put(w.keys.election_report(2, "n3"), "{\"version\":1}", w.lease_of("n3"));
  EtcdView v = w.view();
  EXPECT_EQ(v.history.count(1), 0u);
  EXPECT_TRUE(v.reports.empty());
  EXPECT_EQ(v.problems.size(), 2u);
  Decision p = w.step("n1").decision;
  EXPECT_FALSE(p.fenced) << "corrupt history and report records do not stop the primary: " << describe(p);
}

TEST(HostileView, PostgresRestartedInPlaceLeadsAgainWithoutAnElection) {
  World w = World::cluster(3);
  w.node("n1").obs.stopped();
  Decision down = w.step("n1").decision;
  EXPECT_TRUE(down.fenced);
  EXPECT_EQ(find_write(down, "leadership"), nullptr);
  w.node("n1").obs.primary();
  w.advance(300);
  Decision up = w.step("n1").decision;
  EXPECT_FALSE(up.fenced) << describe(up);
  EXPECT_FALSE(up.sidecar.has_value());
  EXPECT_EQ(w.state().term, 1);
}

}  // namespace
}  // namespace pg_ha::unit
