// Fast takeover (issue 15, docs/protocol.md): the silence bound, the primary's sticky gate and its
// re-arm through `leader`, and the replica's takeover of a silent lease.
#include <gtest/gtest.h>

#include "core/takeover.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// ---- arithmetic ---------------------------------------------------------------------------------

TEST(Silence, LowerBoundTakesOneSecondOffForRounding) {
  // etcd truncates: remaining 5 means 5.0..5.999 s left, so 4.001..5 s of silence.
  EXPECT_EQ(lease_silence_lower_bound_ms(10, 5), 4000);
  EXPECT_EQ(lease_silence_lower_bound_ms(10, 9), 0);
  EXPECT_LT(lease_silence_lower_bound_ms(10, 10), 0) << "a fresh renewal (or a leader change) shows no silence";
  EXPECT_LT(lease_silence_lower_bound_ms(10, 12), 0) << "an etcd leader change extends: silence looks shorter";
}

TEST(Silence, TakeoverWaitsForTheStretchedWindowAndTheMargin) {
  ClusterConfig c;   // fence_after 2000, margin 950, drift 1 %
  EXPECT_EQ(takeover_silence_ms(c), 3000);   // 1.01 * (2000 / 0.99 + 950) = 2999.9, rounded up
  c.fence_after_ms = 2500;                   // the defaults before 2026-12-05
  c.fence_margin_ms = 1000;
  EXPECT_EQ(takeover_silence_ms(c), 3561);   // as slow as 4000 with etcd's whole seconds
  c.max_clock_drift = 0;
  c.fence_margin_ms = 0;
  EXPECT_EQ(takeover_silence_ms(c), 2500);
}

TEST(Silence, WindowForARecordedSilenceNeverExceedsTheWindowThatGaveIt) {
  for (int f : {1100, 2500, 4000, 8000}) {
    for (double rho : {0.0, 0.01, 0.05}) {
      ClusterConfig c;
      c.fence_after_ms = f;
      c.max_clock_drift = rho;
      TimeMs w = window_for_silence_ms(c, takeover_silence_ms(c));
      EXPECT_LE(w, f);
      EXPECT_GE(w, f - 2) << "a primary keeps (almost) its whole window";
    }
  }
}

// The defaults' need (3000 ms) is a whole number of seconds: 6 of 10 left is enough, one second
// sooner than the former defaults (3561 ms needed 5 of 10).
TEST(Silence, ADefaultCandidateNeedsRemainingAtMostSixOfTen) {
  ClusterConfig c;
  EXPECT_LT(lease_silence_lower_bound_ms(10, 7), takeover_silence_ms(c));
  EXPECT_GE(lease_silence_lower_bound_ms(10, 6), takeover_silence_ms(c));
}

TEST(Silence, NoReadingBeforeTheRemainingTtlCouldShowTheSilence) {
  // need 3561 ms: a reading of 9 of 10 left (0 s for sure) cannot show it before 4 - 0 - 1 = 3 s
  // later, whether etcd truncated or rounded up; half a second early for clocks and latency.
  EXPECT_EQ(next_lease_reading_ms(1000, 0, 3561), 1000 + 2500);
  EXPECT_EQ(next_lease_reading_ms(1000, -1000, 3561), 1000 + 3500) << "a fresh renewal";
  EXPECT_EQ(next_lease_reading_ms(1000, 3000, 3561), 1000 + kMinLeaseReadingGapMs) << "close: read often";
  EXPECT_EQ(next_lease_reading_ms(1000, 9000, 3561), 1000 + kMinLeaseReadingGapMs);
}

TEST(Silence, TheEarliestReadingThatCouldCrossIsNeverSkipped) {
  // etcd's remaining time truncated (or rounded up) after `gone` ms without a keep-alive, read at
  // every step of 10 ms: the first reading whose lower bound reaches `need` comes no earlier than
  // the schedule computed from any earlier reading (or than the least gap between two readings).
  const TimeMs need = 3561;
  for (TimeMs renewed = 0; renewed < 1000; renewed += 37) {
    for (bool ceil : {false, true}) {
      auto remaining_at = [&](TimeMs t) {
        TimeMs left = 10000 - (t - renewed);
        return ceil ? (left + 999) / 1000 : left / 1000;
      };
      TimeMs first_cross = -1;
      for (TimeMs t = renewed; first_cross < 0; t += 10) {
        if (lease_silence_lower_bound_ms(10, remaining_at(t)) >= need) first_cross = t;
      }
      for (TimeMs t = renewed; t < first_cross; t += 10) {
        int64_t silent = lease_silence_lower_bound_ms(10, remaining_at(t));
        EXPECT_LE(next_lease_reading_ms(t, silent, need), std::max(first_cross, t + kMinLeaseReadingGapMs))
            << "renewed " << renewed << " read " << t << (ceil ? " ceil" : " floor");
      }
    }
  }
}

// ---- the primary's sticky gate ------------------------------------------------------------------

// n1 leads; its gate lapses while it is cut off (its step emits an arm that goes nowhere).
World lapsed_primary() {
  World w = World::cluster(3);
  EXPECT_FALSE(w.step("n1").decision.fenced);
  w.isolate("n1");
  w.advance(w.config.fence_after_ms + 1);
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  w.reconnect("n1");
  return w;
}

TEST(StickyGate, AKeepAliveAnsweredAfterTheLapseDoesNotReopenIt) {
  World w = lapsed_primary();
  // A keep-alive sent before the deadline but answered after it: its window would still be open.
  TimeMs sent = w.now - 200;
  w.node("n1").obs.keepalive(sent);
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, 0);
}

// F18 (seed 82937): the gate's licence came from a 10 s lease; the config then went to ttl 5 s and
// the lease was granted again with 5 s. The published gate followed the new lease, but the licence
// stayed where the old one had put it: after a partition longer than the new gate (no step in
// between), the first keep-alive answer counted as one that came while the gate was open.
TEST(StickyGate, ALicenceFromALongerLeaseDoesNotOutliveItsReGrant) {
  ClusterConfig long_gate;
  long_gate.ttl_s = 10;
  long_gate.fence_after_ms = 9377;
  long_gate.fence_margin_ms = 424;
  long_gate.loop_wait_ms = 518;
  ASSERT_TRUE(validate_cluster_config(long_gate).ok()) << validate_cluster_config(long_gate).error().message;
  World w = World::cluster(3, long_gate);
  Decision open = w.step("n1").decision;
  ASSERT_FALSE(open.fenced) << describe(open);
  w.config.ttl_s = 5;
  w.config.fence_after_ms = 1863;
  w.config.fence_margin_ms = 424;
  w.config.loop_wait_ms = 518;
  ASSERT_TRUE(validate_cluster_config(w.config).ok()) << validate_cluster_config(w.config).error().message;
  w.node("n1").obs.lease(w.lease_of("n1"), w.now, 5);
  Decision shorter = w.step("n1").decision;
  ASSERT_FALSE(shorter.fenced) << describe(shorter);
  ASSERT_LT(shorter.write_deadline_ms, open.write_deadline_ms) << "the gate follows the new lease";
  w.isolate("n1");
  w.advance(shorter.write_deadline_ms - w.now + 500);   // past the new gate, short of the old licence
  ASSERT_LT(w.now, open.write_deadline_ms);
  w.reconnect("n1");
  w.node("n1").obs.keepalive(w.now);
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << "a keep-alive answered after the published gate closed reopened it: " << describe(d);
}

// F19 (seed 113992): n2 wins the election, but is cut off before its next step; much later it
// steps on its old view, which still shows its win. Another node may have taken over meanwhile
// (n2's lease was silent): it must not promote before a re-arm has landed.
TEST(StickyGate, AWinnerWhoseWindowPassedUnusedDoesNotPromoteOnItsOldView) {
  World w = World::cluster(3);
  w.kill("n1");
  w.advance(w.config.ttl_s * 1000 + 1);
  bool won = false;
  for (int i = 0; i < 20 && !won; ++i) {
    won = find_write(w.run("n2").decision, "take leadership") != nullptr && w.state().primary == "n2";
    w.run("n3");
    w.advance(100);
  }
  ASSERT_TRUE(won) << "n2 did not win";
  w.isolate("n2");
  w.advance(10000);
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.promote) << "promoted on a win whose window had passed: " << describe(d);
  EXPECT_NE(find_write(d, "arm the write gate"), nullptr) << describe(d);
  w.reconnect("n2");
}

TEST(StickyGate, ReArmComparesTheLeaderRevisionAndOurLease) {
  World w = World::cluster(3);
  w.step("n1");
  w.advance(w.config.fence_after_ms + 1);   // no step in between: the licence lapsed
  int64_t rev = w.view().leader->mod_revision;
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  const EtcdWrite* arm = find_write(d, "arm the write gate");
  ASSERT_NE(arm, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(arm->txn, kv::Compare::mod_revision_is(w.keys.leader(), rev)));
  EXPECT_TRUE(has_compare(arm->txn, kv::Compare::lease_is(w.keys.leader(), w.lease_of("n1"))));
  const kv::RequestOp* put = find_put(arm->txn, w.keys.leader());
  ASSERT_NE(put, nullptr);
  auto l = decode_leader(put->value);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->arm, w.now);
  EXPECT_EQ(l->silence_ms, takeover_silence_ms(w.config));
  EXPECT_EQ(put->lease, w.lease_of("n1"));

  w.apply_writes(d);
  w.advance(10);   // a keep-alive sent after the arm, answered inside its window
  Decision open = w.step("n1").decision;
  EXPECT_FALSE(open.fenced) << describe(open);
  EXPECT_EQ(open.write_deadline_ms, w.now + window_for_silence_ms(w.config, takeover_silence_ms(w.config)));
}

TEST(StickyGate, ReArmLosesToATakeoverAndTheOldPrimaryDemotes) {
  World w = World::cluster(3);
  w.step("n1");
  w.advance(w.config.fence_after_ms + 1);
  Decision d = w.step("n1").decision;
  ASSERT_NE(find_write(d, "arm the write gate"), nullptr) << describe(d);
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  w.put_state(s);
  w.put_leader("n2", 2);   // a replica's takeover landed first
  std::vector<TxnOutcome> out = w.apply_writes(d);
  for (size_t i = 0; i < d.writes.size(); ++i) {
    if (d.writes[i].what.rfind("arm the write gate", 0) == 0) {
      EXPECT_EQ(out[i], TxnOutcome::Failed);
    }
  }
  w.advance(10);
  Decision after = w.step("n1").decision;
  EXPECT_TRUE(after.fenced);
  EXPECT_EQ(after.state, NodeState::Demoting) << describe(after);
}

TEST(StickyGate, AnArmThatGaveNoLicenceBacksOffAndStopsRenewingTheLease) {
  World w = World::cluster(3);
  w.step("n1");
  w.advance(w.config.fence_after_ms + 1);
  Decision d = w.step("n1").decision;
  w.apply_writes(d);   // the arm lands, but no keep-alive answer comes back in its window
  TimeMs armed_at = w.now;
  w.isolate("n1");
  w.advance(w.config.fence_after_ms + 1);
  w.reconnect("n1");
  Decision held = w.step("n1").decision;
  EXPECT_TRUE(held.fenced);
  EXPECT_TRUE(held.hold_keepalive) << describe(held);
  EXPECT_EQ(find_write(held, "arm the write gate"), nullptr) << "backing off";
  EXPECT_NE(held.fence_reason.find("not renewing the lease"), std::string::npos) << held.fence_reason;
  w.now = armed_at + rearm_backoff_ms(w.config);
  Decision again = w.step("n1").decision;
  EXPECT_NE(find_write(again, "arm the write gate"), nullptr) << describe(again);
  EXPECT_FALSE(again.hold_keepalive);
}

// Issue 14 item 6: an etcd leader election (no member can write for a few seconds) outlasts
// fence_after_ms. The arm sent during it is lost; once etcd answers a keep-alive in time again the
// primary arms again at once, instead of waiting out the lost arm's window and then backing off
// without keep-alives (which kept it fenced for ~8 s, or handed over, for a 3 s election).
TEST(StickyGate, AnArmLostInAnEtcdElectionIsRetriedOnceEtcdAnswersInTime) {
  World w = World::cluster(3);
  w.step("n1");
  w.isolate("n1");   // the election: nothing this node sends is taken
  w.advance(w.config.fence_after_ms + 1);
  Decision lapsed = w.step("n1").decision;
  ASSERT_NE(find_write(lapsed, "arm the write gate"), nullptr) << describe(lapsed);   // lost: not applied
  w.advance(1000);   // the arm's request times out
  w.reconnect("n1");
  w.advance(500);    // etcd has a leader again: a keep-alive sent now is answered at once
  Decision retry = w.step("n1").decision;
  EXPECT_FALSE(retry.hold_keepalive) << describe(retry);
  ASSERT_NE(find_write(retry, "arm the write gate"), nullptr) << "the lost arm is not sent again\n" << describe(retry);
  w.apply_writes(retry);
  w.advance(10);
  Decision open = w.step("n1").decision;
  EXPECT_FALSE(open.fenced) << describe(open);
}

// The other side of the same rule: an arm that landed (a slow link: etcd takes what we send, its
// answers come too late) is not sent again however the keep-alives fare, and with none answered
// in time the primary backs off (AnArmThatGaveNoLicenceBacksOffAndStopsRenewingTheLease).
TEST(StickyGate, AnArmThatLandedIsNotRetriedAtOnce) {
  World w = World::cluster(3);
  w.step("n1");
  w.isolate("n1");
  w.advance(w.config.fence_after_ms + 1);
  w.reconnect("n1");
  Decision lapsed = w.step("n1").decision;
  ASSERT_NE(find_write(lapsed, "arm the write gate"), nullptr) << describe(lapsed);
  w.apply_writes(lapsed);   // landed, and the view shows it
  w.isolate("n1");          // every answer late from now on
  w.advance(w.config.fence_after_ms / 2);
  Decision waiting = w.step("n1").decision;
  EXPECT_EQ(find_write(waiting, "arm the write gate"), nullptr) << describe(waiting);
  EXPECT_FALSE(waiting.hold_keepalive) << "keep-alives go on inside the arm's window";
}

TEST(StickyGate, OffWithAnUnstampedLeaderKeepsTheOldRule) {
  ClusterConfig plain;
  plain.fast_takeover = false;
  World w = World::cluster(3, plain);
  w.step("n1");
  w.advance(plain.fence_after_ms + 1);
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.fenced) << "the keep-alive sent now counts: " << describe(d);
  EXPECT_EQ(find_write(d, "arm the write gate"), nullptr);
}

// ---- the replica's takeover ---------------------------------------------------------------------

// n2 has seen the leader key; time passes; its reading of n1's lease says `remaining` of 10 s.
World silent_leader(int64_t remaining, TimeMs after_ms) {
  World w = World::cluster(3);
  w.step("n2");
  w.step("n3");
  w.advance(after_ms);
  for (const char* n : {"n2", "n3"}) {
    w.node(n).obs.get().leader_lease = LeaseTtlReading{w.lease_of("n1"), remaining, 10, w.etcd.revision(), w.now};
  }
  return w;
}

TEST(Takeover, ReplicaAsksForTheLeadersLeaseTtl) {
  World w = World::cluster(3);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(d.read_lease_ttl, w.lease_of("n1"));
  EXPECT_EQ(d.state, NodeState::Streaming) << describe(d);
}

TEST(Takeover, SilentLeaseOpensAnElectionWhoseWinnerReplacesTheLeaderAtItsRevision) {
  World w = silent_leader(5, 4000);
  int64_t rev = w.view().leader->mod_revision;
  Decision d2 = w.run("n2").decision;
  EXPECT_EQ(d2.state, NodeState::Electing) << describe(d2);
  EXPECT_NE(d2.reason.find("silent"), std::string::npos) << d2.reason;
  w.run("n3");
  Decision take = w.step("n2").decision;
  const EtcdWrite* t = find_write(take, "take leadership for term 2");
  ASSERT_NE(t, nullptr) << describe(take);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.leader(), rev)));
  EXPECT_FALSE(has_compare(t->txn, kv::Compare::absent(w.keys.leader())));
  auto l = decode_leader(find_put(t->txn, w.keys.leader())->value);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->name, "n2");
  EXPECT_NE(l->arm, 0) << "the new primary is armed by its own write";
}

TEST(Takeover, TooShortASilenceAfterRoundingIsNotEnough) {
  World w = silent_leader(7, 4000);   // 2 s for sure, 3 s needed
  Decision d = w.step("n2").decision;
  EXPECT_NE(d.state, NodeState::Electing) << describe(d);
  EXPECT_TRUE(find_write(d, "report position") == nullptr);
  EXPECT_EQ(d.read_lease_ttl_at, w.now + kMinLeaseReadingGapMs) << "the next reading may show it";
}

TEST(Takeover, AHealthyLeaseIsReadAboutOnceInTheSilenceWanted) {
  World w = silent_leader(9, 5000);   // renewed within the last second
  Decision d = w.step("n2").decision;
  EXPECT_EQ(d.read_lease_ttl, w.lease_of("n1"));
  // need 3 s, 0 s for sure: no answer can show 3 s before 3 - 0 - 1 = 2 s from now; half a second early.
  EXPECT_EQ(d.read_lease_ttl_at, w.now + 1500) << "not once a loop: no answer before then could cross";
}

TEST(Takeover, AReadingOlderThanTheLastLeaderWriteDoesNotCount) {
  World w = silent_leader(5, 4000);
  w.node("n2").obs.get().leader_lease.header_revision = w.view().leader->mod_revision - 1;
  EXPECT_NE(w.step("n2").decision.state, NodeState::Electing);
}

TEST(Takeover, AReadingSentSoonAfterTheLeaderWasWrittenDoesNotCount) {
  World w = silent_leader(5, 4000);
  w.put_leader("n1", 1);   // an arm (say) lands; n2 sees it now
  w.node("n2").obs.get().leader_lease.header_revision = w.etcd.revision();
  EXPECT_NE(w.step("n2").decision.state, NodeState::Electing);
  w.advance(takeover_silence_ms(w.config) - 1);
  w.node("n2").obs.get().leader_lease.sent_ms = w.now;
  EXPECT_NE(w.step("n2").decision.state, NodeState::Electing);
  w.advance(1);
  w.node("n2").obs.get().leader_lease.sent_ms = w.now;
  EXPECT_EQ(w.step("n2").decision.state, NodeState::Electing);
}

TEST(Takeover, AnUnarmedLeaderIsLeftToItsLease) {
  World w = silent_leader(5, 4000);
  w.etcd.put(w.keys.leader(), encode(LeaderRecord{"n1", 1}), w.lease_of("n1"));
  w.step("n2");
  w.advance(5000);
  auto& r = w.node("n2").obs.get().leader_lease;
  r.header_revision = w.etcd.revision();
  r.sent_ms = w.now;
  Decision d = w.step("n2").decision;
  EXPECT_NE(d.state, NodeState::Electing);
  EXPECT_EQ(d.read_lease_ttl, 0) << "no use reading it";
}

TEST(Takeover, TheRecordedSilenceWinsWhenLongerThanOurs) {
  World w = silent_leader(5, 4000);
  LeaderRecord l = decode_leader(w.etcd.get(w.keys.leader())->value).value();
  l.silence_ms = 6000;   // the primary's config had a longer fence window
  w.etcd.put(w.keys.leader(), encode(l), w.lease_of("n1"));
  w.step("n2");
  w.advance(7000);
  auto& r = w.node("n2").obs.get().leader_lease;
  r.header_revision = w.etcd.revision();
  r.sent_ms = w.now;
  EXPECT_NE(w.step("n2").decision.state, NodeState::Electing) << "4 s of 6 s";
  r.remaining_s = 3;
  EXPECT_EQ(w.step("n2").decision.state, NodeState::Electing);
}

TEST(Takeover, OffMeansNoReadingAndNoTakeover) {
  ClusterConfig plain;
  plain.fast_takeover = false;
  World w = World::cluster(3, plain);
  w.step("n2");
  w.advance(8000);
  w.node("n2").obs.get().leader_lease = LeaseTtlReading{w.lease_of("n1"), 1, 10, w.etcd.revision(), w.now};
  Decision d = w.step("n2").decision;
  EXPECT_EQ(d.read_lease_ttl, 0);
  EXPECT_NE(d.state, NodeState::Electing);
}

}  // namespace
}  // namespace pg_ha::unit
