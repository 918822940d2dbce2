// Replicas never stay stuck, and never restart for nothing (issue 12): a replica that cannot
// stream from its primary for a bounded time is rewound, then re-cloned; a replica whose WAL is an
// ancestor of the new primary's only changes its upstream.
#include <gtest/gtest.h>

#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

constexpr TimeMs kStuckMs = 5000;   // stuck_bound_ms with the default loop_wait

// `name` leads `term` on `timeline` (recorded, with the history record of the hand-over from
// `old` at kBase+0x100), its WAL at `flush`.
void lead(World& w, const std::string& name, int64_t term, uint32_t timeline, Lsn flush, const std::string& old) {
  StateRecord s = w.state();
  s.term = term;
  s.primary = name;
  s.timeline = timeline;
  w.put_state(s);
  w.put_leader(name, term);
  HistoryRecord h;
  h.term = term;
  h.reason = "switchover";
  h.old_primary = old;
  h.new_primary = name;
  h.old_timeline = timeline - 1;
  h.lsn = World::kBase + 0x100;
  w.put_history(h);
  w.node(name).obs.primary().timeline(timeline).flush(flush);
  w.publish_member(name);
}

// n2 leads term 2 on timeline 2 (recorded), its WAL at kBase+0x1000; n3 is on timeline 1.
World n2_leads_term_2(Lsn n3_flush, int nodes = 3) {
  World w = World::cluster(nodes);
  w.kill("n1");
  lead(w, "n2", 2, 2, World::kBase + 0x1000, "n1");
  w.node("n3").obs.replica_of("n2", false).timeline(1).flush(n3_flush);
  return w;
}

TEST(StuckReplica, NotStreamingAndBehindIsReportedThenRewound) {
  World w = n2_leads_term_2(World::kBase + 0x80);   // an ancestor, yet it does not stream
  Decision first = w.step("n3").decision;
  EXPECT_FALSE(first.sidecar.has_value()) << describe(first);
  w.advance(kStuckMs - 1000);
  Decision waiting = w.step("n3").decision;
  EXPECT_FALSE(waiting.sidecar.has_value()) << describe(waiting);
  EXPECT_NE(waiting.reason.find("no WAL received"), std::string::npos) << waiting.reason;
  w.advance(1000);
  Decision d = w.step("n3").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Rewind);
  EXPECT_EQ(d.sidecar->primary, "n2");
  EXPECT_EQ(d.sidecar->primary_host, "host-n2");
  EXPECT_EQ(d.state, NodeState::Rewinding);
  EXPECT_NE(d.reason.find("cannot stream from n2"), std::string::npos) << d.reason;
  EXPECT_EQ(w.step("n3").decision.sidecar->id, d.sidecar->id) << "stable id";
}

// n3 gets stuck, is rewound (the rewind restarts postgres: a new worker, fresh memory), comes
// back at `after_rewind` and stays stuck there: the decision once the bound has passed again.
Decision stuck_again_after_a_rewind(Lsn after_rewind) {
  World w = n2_leads_term_2(World::kBase + 0x80);
  w.step("n3");
  w.advance(kStuckMs);
  std::string rewind_id = w.step("n3").decision.sidecar->id;
  w.node("n3").mem = NodeMemory{};
  w.node("n3").obs.sidecar_done(rewind_id).flush(after_rewind);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value());
  w.advance(kStuckMs);
  return w.step("n3").decision;
}

TEST(StuckReplica, StillStuckAfterTheRewindIsRecloned) {
  Decision d = stuck_again_after_a_rewind(World::kBase + 0x80);   // nothing moved
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Reclone);
  EXPECT_EQ(d.state, NodeState::Recloning);
}

// Seen end to end: a rewind that finds nothing to do (the two nodes' timelines had the same
// number, so pg_rewind saw no fork) restarts the replica, whose replay then stops at another
// place, short of where it stood. Keyed on the position, every round was a "first" rewind, for
// ever; a rewind for this term and primary that did not help leads to a re-clone wherever the
// replica is stuck next.
TEST(StuckReplica, StuckElsewhereAfterTheRewindIsRecloned) {
  Decision d = stuck_again_after_a_rewind(World::kBase + 0x40);
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Reclone) << describe(d);
  EXPECT_EQ(d.state, NodeState::Recloning);
}

// FINDINGS F25 (seed 49780): n3 was stuck behind n2 for almost the whole bound when n4 won the
// next term. The timer ran on across the change: at once "cannot stream from n4 for 5 s" and a
// rewind to a primary it had never tried (from recloning, a state change the table does not have).
TEST(StuckReplica, ANewPrimaryGetsTheWholeBound) {
  World w = n2_leads_term_2(World::kBase + 0x80, 4);
  w.step("n3");
  w.advance(kStuckMs - 100);
  ASSERT_FALSE(w.step("n3").decision.sidecar.has_value());
  w.kill("n2");
  lead(w, "n4", 3, 3, World::kBase + 0x2000, "n2");
  w.advance(200);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.state, NodeState::Replica) << d.reason;
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n4");
  w.advance(kStuckMs);
  Decision later = w.step("n3").decision;
  ASSERT_TRUE(later.sidecar.has_value()) << "stuck behind n4 for the whole bound: " << describe(later);
  EXPECT_EQ(later.sidecar->kind, SidecarRequest::Kind::Rewind);
  EXPECT_EQ(later.sidecar->primary, "n4");
}

TEST(StuckReplica, ProgressKeepsItFollowing) {
  World w = n2_leads_term_2(World::kBase + 0x80);
  w.step("n3");
  for (int i = 1; i <= 10; ++i) {
    w.advance(1000);
    w.node("n3").obs.flush(World::kBase + 0x80 + static_cast<Lsn>(i));
    Decision d = w.step("n3").decision;
    EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  }
}

TEST(StuckReplica, CaughtUpAndIdleIsNotStuck) {
  World w = n2_leads_term_2(World::kBase + 0x80);
  w.node("n3").obs.replica_of("n2", true).timeline(2).flush(World::kBase + 0x1000);
  w.step("n3");
  w.advance(10 * kStuckMs);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value());
}

TEST(StuckReplica, NotWhileThereIsNoLeader) {
  World w = n2_leads_term_2(World::kBase + 0x80);
  w.etcd.del(w.keys.leader());
  w.step("n3");
  w.advance(2 * kStuckMs);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
}

// A switchover: history/2 says n1 handed over at kBase+0x100; n3 then received n1's shutdown
// checkpoint (kBase+0x180), and so did n2 before it promoted: n2's timeline branched at 0x180.
World switched_over(Lsn branch, uint32_t recorded_timeline) {
  World w = n2_leads_term_2(World::kBase + 0x180);
  StateRecord s = w.state();
  s.timeline = recorded_timeline;
  w.put_state(s);
  HistoryRecord h = w.view().history.at(2).value;
  h.lsn = branch;
  w.put_history(h);
  w.node("n3").obs.replica_of("n2", true);
  return w;
}

TEST(NoNeedlessRewind, NotBeforeTheNewPrimaryRecordedWhereItBranched) {
  World w = switched_over(World::kBase + 0x100, 0);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n2");
}

TEST(NoNeedlessRewind, AnAncestorOfTheRealBranchPointOnlyChangesUpstream) {
  World w = switched_over(World::kBase + 0x180, 2);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n2");
}

TEST(NoNeedlessRewind, PastTheRealBranchPointStillRewinds) {
  World w = switched_over(World::kBase + 0x140, 2);
  Decision d = w.step("n3").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Rewind);
}

TEST(NoNeedlessRewind, TheNewPrimaryRecordsWhereItsTimelineBranched) {
  World w = switched_over(World::kBase + 0x100, 0);
  w.node("n2").obs.local().timeline_start_lsn = World::kBase + 0x180;
  Decision d = w.step("n2").decision;
  std::vector<std::string> names = write_names(d);
  const EtcdWrite* fix = find_write(d, "branched");
  ASSERT_NE(fix, nullptr) << describe(d);
  auto h = decode_history(find_put(fix->txn, w.keys.history(2))->value);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->lsn, World::kBase + 0x180);
  EXPECT_EQ(h->new_primary, "n2");
  // Before the timeline is recorded in state: replicas wait for that, so they see the fix.
  ASSERT_GE(names.size(), 2u);
  EXPECT_NE(names[0].find("branched"), std::string::npos) << describe(d);
  EXPECT_NE(names[1].find("record timeline"), std::string::npos) << describe(d);
}

}  // namespace
}  // namespace pg_ha::unit
