// A node in recovery: promotion only through a committed term (I2), following, rewind.
#include <gtest/gtest.h>

#include <cstdlib>

#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// n2 won term 2 (state and leader committed); n1 is gone.
World n2_won_term_2() {
  World w = World::cluster(3);
  w.kill("n1");
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  s.timeline = 0;
  w.put_state(s);
  w.put_leader("n2", 2);
  return w;
}

TEST(Promotion, OnlyWithLeaderUnderItsOwnLeaseAndStateForTheSameTerm) {
  World w = n2_won_term_2();
  Decision d = w.step("n2").decision;
  EXPECT_TRUE(d.promote) << describe(d);
  EXPECT_EQ(d.state, NodeState::Promoting);
  EXPECT_EQ(d.write_deadline_ms, 0) << "no writes until the lead rule runs after promotion";
  EXPECT_FALSE(d.follow.has_value());
  EXPECT_EQ(find_write(d, "leadership"), nullptr);
}

TEST(Promotion, LeaderNamingUsUnderAnotherLeaseIsNotEnough) {
  World w = n2_won_term_2();
  w.put_leader("n2", 2, 999);  // e.g. written for an old lease of ours, or forged
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.promote) << describe(d);
}

TEST(Promotion, StateNamingSomeoneElseIsNotEnough) {
  World w = n2_won_term_2();
  StateRecord s = w.state();
  s.primary = "n3";
  w.put_state(s);
  EXPECT_FALSE(w.step("n2").decision.promote);
}

TEST(Promotion, TermMismatchIsNotEnough) {
  World w = n2_won_term_2();
  w.put_leader("n2", 3);
  EXPECT_FALSE(w.step("n2").decision.promote);
}

TEST(Promotion, NoLeaseObservedNoPromotion) {
  World w = n2_won_term_2();
  w.node("n2").obs.no_lease();
  EXPECT_FALSE(w.step("n2").decision.promote);
}

TEST(Promotion, StateAloneIsNotEnough) {
  World w = n2_won_term_2();
  w.expire_lease("n2");  // the leader key went with our lease
  w.new_lease("n2");
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.promote) << describe(d);
}

TEST(Promotion, IsRepeatedWhileStillInRecovery) {
  World w = n2_won_term_2();
  EXPECT_TRUE(w.step("n2").decision.promote);
  w.advance(1000);
  EXPECT_TRUE(w.step("n2").decision.promote) << "level-triggered: pg_promote is idempotent";
}

TEST(Follow, ReplicasFollowTheLeadersAddress) {
  World w = World::cluster(3);
  for (const char* n : {"n2", "n3"}) {
    Decision d = w.step(n).decision;
    ASSERT_TRUE(d.follow.has_value()) << describe(d);
    EXPECT_EQ(*d.follow, (FollowTarget{"n1", "host-n1", 5432}));
    EXPECT_EQ(d.state, NodeState::Streaming);
    EXPECT_FALSE(d.promote);
    EXPECT_FALSE(d.sidecar.has_value());
    EXPECT_EQ(d.write_deadline_ms, 0);
  }
}

TEST(Follow, NotYetStreamingSaysSo) {
  World w = World::cluster(2);
  w.node("n2").obs.replica_of("", false);
  Decision d = w.step("n2").decision;
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n1");
  EXPECT_EQ(d.state, NodeState::Replica);
}

TEST(Follow, TheNewPrimaryAfterAFailover) {
  World w = n2_won_term_2();
  w.node("n2").obs.primary().timeline(2);
  w.node("n2").cfg.port = 6543;
  w.publish_member("n2");
  Decision d = w.step("n3").decision;
  ASSERT_TRUE(d.follow.has_value()) << describe(d);
  EXPECT_EQ(*d.follow, (FollowTarget{"n2", "host-n2", 6543}));
}

TEST(Follow, LeaderWithoutAMemberRecordMeansWait) {
  World w = World::cluster(3);
  w.etcd.del(w.keys.member("n1"));
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.follow.has_value()) << describe(d);
  EXPECT_NE(d.reason.find("address"), std::string::npos) << d.reason;
}

TEST(Follow, NoStateYetMeansWaitForBootstrap) {
  World w;
  w.add_node("n2").obs.replica_of("", false);
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.follow.has_value());
  EXPECT_FALSE(d.promote);
  EXPECT_EQ(find_write(d, "report"), nullptr);
}

// history/2: n2 took over at kBase + 0x100 from timeline 1.
World diverged_world(Lsn n3_flush, uint32_t n3_timeline) {
  World w = n2_won_term_2();
  HistoryRecord h;
  h.term = 2;
  h.reason = "failover";
  h.old_primary = "n1";
  h.new_primary = "n2";
  h.old_timeline = 1;
  h.lsn = World::kBase + 0x100;
  w.put_history(h);
  w.node("n2").obs.primary().timeline(2);
  w.publish_member("n2");
  StateRecord s = w.state();
  s.timeline = 2;   // n2 has recorded its timeline (and with it where it branched)
  w.put_state(s);
  w.node("n3").obs.timeline(n3_timeline).flush(n3_flush);
  return w;
}

TEST(Rewind, OldTimelinePastTheBranchPointAsksForRewind) {
  World w = diverged_world(World::kBase + 0x101, 1);
  Decision d = w.step("n3").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Rewind);
  EXPECT_EQ(d.sidecar->id, "rewind-2-n2");
  EXPECT_EQ(d.sidecar->primary, "n2");
  EXPECT_EQ(d.sidecar->primary_host, "host-n2");
  EXPECT_EQ(d.state, NodeState::Rewinding);
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n2");
  EXPECT_EQ(w.step("n3").decision.sidecar->id, d.sidecar->id) << "stable id";
}

TEST(Rewind, AtOrBeforeTheBranchPointJustFollows) {
  World w = diverged_world(World::kBase + 0x100, 1);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n2");
}

// Issue 12 item 6, seen in a switchover: an uninvolved standby had received the old primary's
// last WAL (past the new primary's branch point) but not replayed it. Recovery switches to the
// new timeline at the branch, so it only needs its upstream changed; pg_rewind said "no rewind
// was needed" after a needless restart.
TEST(Rewind, ReceivedButNotReplayedPastTheBranchPointJustFollows) {
  World w = diverged_world(World::kBase + 0x180, 1);
  w.node("n3").obs.replay(World::kBase + 0x100);
  Decision d = w.step("n3").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  ASSERT_TRUE(d.follow.has_value());
  EXPECT_EQ(d.follow->name, "n2");
}

TEST(Rewind, AlreadyOnTheNewTimelineJustFollows) {
  World w = diverged_world(World::kBase + 0x5000, 2);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value());
}

TEST(Rewind, DivergedTwoTermsAgoStillAsksForRewind) {
  // n3 was away while n2 took over from n1 (term 2, timeline 1 -> 2, branch at kBase + 0x100)
  // and again while n4 took over from n2 (term 3, timeline 2 -> 3). n3 is still on timeline 1
  // with WAL past the first branch point: it can never stream from n4 without pg_rewind.
  World w = World::cluster(4);
  w.kill("n1");
  HistoryRecord h2;
  h2.term = 2;
  h2.reason = "failover";
  h2.old_primary = "n1";
  h2.new_primary = "n2";
  h2.old_timeline = 1;
  h2.lsn = World::kBase + 0x100;
  w.put_history(h2);
  HistoryRecord h3 = h2;
  h3.term = 3;
  h3.old_primary = "n2";
  h3.new_primary = "n4";
  h3.old_timeline = 2;
  h3.lsn = World::kBase + 0x900;
  w.put_history(h3);
  w.kill("n2");
  StateRecord s = w.state();
  s.term = 3;
  s.primary = "n4";
  s.timeline = 3;
  w.put_state(s);
  w.node("n4").obs.primary().timeline(3).flush(World::kBase + 0x1000);
  w.publish_member("n4");
  w.put_leader("n4", 3);
  w.node("n3").obs.replica_of("n4", false).timeline(1).flush(World::kBase + 0x200);
  Decision d = w.step("n3").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Rewind);
  EXPECT_EQ(d.sidecar->primary, "n4");
}

TEST(Rewind, BranchPointIsKnownEvenIfThePreviousWinnerNeverPromoted) {
  // n2 won term 2 but died before promoting (state.timeline stayed 0). n3 wins term 3 from
  // timeline 1 at kBase+0x10 while n4, further ahead on timeline 1, was not there to report.
  World w = World::cluster(4);
  w.kill("n1");
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  s.timeline = 0;
  w.put_state(s);
  w.kill("n2");
  w.set_flush("n3", World::kBase + 0x10);
  w.node("n4").obs.flush(World::kBase + 0x20).no_lease();
  w.run("n3");
  w.advance(w.config.election_wait_ms);
  Decision win = w.run("n3").decision;
  const EtcdWrite* t = find_write(win, "take leadership for term 3");
  ASSERT_NE(t, nullptr) << describe(win);
  auto h = decode_history(find_put(t->txn, w.keys.history(3))->value);
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 4; ++i) w.run("n3");  // promotes (timeline 2), records it and the branch point
  w.new_lease("n4");
  Decision d = w.step("n4").decision;
  EXPECT_EQ(h->old_timeline, 1u);
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Rewind);
}

TEST(Rewind, BehindAnEarlierBranchPointJustFollows) {
  World w = World::cluster(4);
  HistoryRecord h2;
  h2.term = 2;
  h2.new_primary = "n2";
  h2.old_timeline = 1;
  h2.lsn = World::kBase + 0x100;
  w.put_history(h2);
  HistoryRecord h3 = h2;
  h3.term = 3;
  h3.new_primary = "n4";
  h3.old_timeline = 2;
  h3.lsn = World::kBase + 0x900;
  w.put_history(h3);
  StateRecord s = w.state();
  s.term = 3;
  s.primary = "n4";
  w.put_state(s);
  w.node("n4").obs.primary().timeline(3);
  w.publish_member("n4");
  w.put_leader("n4", 3);
  w.node("n3").obs.timeline(1).flush(World::kBase + 0x80);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value());
}

}  // namespace
}  // namespace pg_ha::unit
