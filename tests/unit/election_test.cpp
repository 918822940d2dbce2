// Election after the primary is lost (I2, I3, I4, I5): reports, waiting, the deterministic winner,
// and the one transaction only the winner sends.
#include <gtest/gtest.h>

#include "core/candidates.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

constexpr Lsn kMiB = 1 << 20;

Tags priority(int p) {
  Tags t;
  t.priority = p;
  return t;
}

Tags nofailover() {
  Tags t;
  t.nofailover = true;
  return t;
}

// n1 (the primary) is lost: its lease expired, so `leader` and its member record are gone.
World lost_primary(int n, ClusterConfig config = {}) {
  World w = World::cluster(n, config);
  w.kill("n1");
  return w;
}

// Every named replica steps once and its writes are applied (each reports its position).
void all_report(World& w, std::initializer_list<const char*> names) {
  for (const char* n : names) w.run(n);
}

std::string winner_in(World& w, const std::string& name) {
  Decision d = w.step(name).decision;
  const EtcdWrite* t = find_write(d, "take leadership");
  if (!t) return "";
  auto l = decode_leader(find_put(t->txn, w.keys.leader())->value);
  return l.ok() ? l->name : "?";
}

TEST(Election, KilledPrimaryMakesEachEligibleReplicaReport) {
  World w = lost_primary(3);
  w.set_flush("n2", World::kBase + 100);
  for (const char* name : {"n2", "n3"}) {
    Decision d = w.step(name).decision;
    EXPECT_EQ(d.state, NodeState::Electing) << describe(d);
    const EtcdWrite* t = find_write(d, "report position for term 2");
    ASSERT_NE(t, nullptr) << name << "\n" << describe(d);
    std::string key = w.keys.election_report(2, name);
    EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(key)));
    const kv::RequestOp* put = find_put(t->txn, key);
    ASSERT_NE(put, nullptr);
    EXPECT_EQ(put->lease, w.lease_of(name)) << "a report dies with its reporter";
    auto r = decode_report(put->value);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->term, 2);
    EXPECT_EQ(r->timeline, 1u);
    EXPECT_EQ(r->lsn, std::string(name) == "n2" ? World::kBase + 100 : World::kBase);
    EXPECT_EQ(find_write(d, "take leadership"), nullptr) << "never before its own report is in the view";
    EXPECT_EQ(d.write_deadline_ms, 0) << "a replica never gets a write deadline";
  }
}

TEST(Election, NoReportTwice) {
  World w = lost_primary(3);
  w.run("n2");
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "report position"), nullptr) << describe(d);
}

TEST(Election, NoReportWithoutALease) {
  World w = lost_primary(3);
  w.node("n2").obs.no_lease();
  Decision d = w.step("n2").decision;
  EXPECT_TRUE(d.writes.empty()) << describe(d);
}

// Issue 14 item 1: the worker starts before recovery has set the replay position, so a replica
// can see 0/0 (and timeline 0). That is no position: reporting it got the node judged "48 MiB
// behind" for good. Such a replica waits until it knows where it is.
TEST(Election, UnknownPositionIsNotReported) {
  World w = lost_primary(3);
  w.node("n2").obs.timeline(0).flush(0);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "report position"), nullptr) << describe(d);
  EXPECT_EQ(d.state, NodeState::Electing) << describe(d);
  EXPECT_NE(d.reason.find("position"), std::string::npos) << d.reason;
}

TEST(Election, ReportIsRefreshedWhenThePositionMovesOn) {
  World w = lost_primary(3);
  w.run("n2");
  int64_t rev = w.view().reports.at(2).at("n2").mod_revision;
  w.set_flush("n2", World::kBase + 100);
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "position for term 2");
  ASSERT_NE(t, nullptr) << describe(d);
  std::string key = w.keys.election_report(2, "n2");
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(key, rev))) << describe(t->txn);
  EXPECT_EQ(decode_report(find_put(t->txn, key)->value)->lsn, World::kBase + 100);
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << "not on a report the view does not show yet";
  w.apply_writes(d);
  EXPECT_EQ(w.view().reports.at(2).at("n2").value.lsn, World::kBase + 100);
  EXPECT_EQ(find_write(w.step("n2").decision, "position"), nullptr) << "no refresh without a move";
}

TEST(Election, ReportIsNeverMovedBackwards) {
  World w = lost_primary(3);
  w.set_flush("n2", World::kBase + 100);
  w.run("n2");
  w.set_flush("n2", World::kBase);
  EXPECT_EQ(find_write(w.step("n2").decision, "position"), nullptr);
}

// The whole-cluster crash without the old primary: both replicas come back while recovery has not
// set their position yet; once it has, they report it and one of them is elected.
TEST(Election, ReplicasRestartedWithoutThePrimaryElectOneOnceTheirPositionIsKnown) {
  World w = lost_primary(3);
  for (const char* n : {"n2", "n3"}) w.node(n).obs.timeline(0).flush(0);
  all_report(w, {"n2", "n3"});
  w.advance(w.config.election_wait_ms * 3);
  all_report(w, {"n2", "n3"});
  for (const char* n : {"n2", "n3"}) w.node(n).obs.timeline(1).flush(World::kBase);
  w.set_flush("n3", World::kBase + 10);
  w.advance(w.config.loop_wait_ms);
  all_report(w, {"n2", "n3"});
  EXPECT_EQ(winner_in(w, "n3"), "n3");
}

// A report filed early in recovery (a real but old position) is refreshed as replay moves on, so
// the lag bound judges where the node really is.
TEST(Election, EarlyLowReportDoesNotKeepANodeBehindForever) {
  World w = lost_primary(2);
  w.set_flush("n2", World::kBase - 4 * kMiB);
  w.run("n2");
  w.advance(w.config.election_wait_ms * 3);
  EXPECT_EQ(winner_in(w, "n2"), "") << "4 MiB behind the optime";
  w.set_flush("n2", World::kBase);
  w.run("n2");
  EXPECT_EQ(winner_in(w, "n2"), "n2");
}

TEST(Election, MissingReportBeforeElectionWaitMeansNoTakeLeadership) {
  World w = lost_primary(3);
  w.set_flush("n2", World::kBase + 100);
  w.run("n2");  // n3 has not reported (yet)
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("waiting for n3"), std::string::npos) << d.reason;
  EXPECT_LE(d.wake_at_ms, w.now + w.config.election_wait_ms) << "wakes when the wait ends";

  w.advance(w.config.election_wait_ms - 1);
  EXPECT_EQ(winner_in(w, "n2"), "");
  w.advance(1);
  EXPECT_EQ(winner_in(w, "n2"), "n2") << "the wait is over: decide among the reports we have";
}

TEST(Election, OnceAllReportedOnlyTheBestTakesLeadership) {
  World w = lost_primary(3);
  w.set_flush("n3", World::kBase + 200);
  all_report(w, {"n2", "n3"});
  EtcdView v = w.view();
  Decision loser = w.step("n2").decision;
  EXPECT_EQ(find_write(loser, "take leadership"), nullptr) << describe(loser);
  EXPECT_EQ(loser.state, NodeState::Electing);

  Decision d = w.step("n3").decision;
  const EtcdWrite* t = find_write(d, "take leadership for term 2");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.leader())));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::prefix_unchanged_since(w.keys.election_term_prefix(2), v.revision)));
  const kv::RequestOp* leader = find_put(t->txn, w.keys.leader());
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->lease, w.lease_of("n3"));
  EXPECT_EQ(decode_leader(leader->value)->term, 2);
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->term, 2);
  EXPECT_EQ(s->primary, "n3");
  auto h = decode_history(find_put(t->txn, w.keys.history(2))->value);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->old_primary, "n1");
  EXPECT_EQ(h->new_primary, "n3");
  EXPECT_EQ(h->old_timeline, 1u);
  EXPECT_EQ(h->lsn, World::kBase + 200);
  EXPECT_NE(find_op(t->txn, kv::RequestOp::Kind::DeleteRange, w.keys.election_prefix()), nullptr);
  EXPECT_FALSE(d.promote) << "promotion waits until the view shows the committed term";

  EXPECT_EQ(w.apply_writes(d).front(), TxnOutcome::Succeeded);
  EXPECT_TRUE(w.etcd.keys_with_prefix(w.keys.election_prefix()).empty());
}

TEST(Election, TakeLeadershipFailsIfAReportArrivedAfterTheDecision) {
  World w = lost_primary(4);
  w.set_flush("n2", World::kBase + 200);
  all_report(w, {"n2", "n3"});
  w.advance(w.config.election_wait_ms);  // n4 never reported in time
  Decision d = w.step("n2").decision;
  ASSERT_NE(find_write(d, "take leadership"), nullptr) << describe(d);
  w.set_flush("n4", World::kBase + 300);
  w.run("n4");  // late report, better position
  EXPECT_EQ(w.apply_writes(d).front(), TxnOutcome::Failed) << "I5: the ranged compare sees the newer report";
  EXPECT_EQ(winner_in(w, "n4"), "n4");
}

TEST(Election, EqualLsnHigherPriorityWins) {
  World w = lost_primary(3);
  w.set_tags("n2", priority(50));
  w.set_tags("n3", priority(100));
  all_report(w, {"n2", "n3"});
  EXPECT_EQ(winner_in(w, "n2"), "");
  EXPECT_EQ(winner_in(w, "n3"), "n3");
}

TEST(Election, EqualPrioritySmallerNameWins) {
  World w = lost_primary(3);
  all_report(w, {"n3", "n2"});
  EXPECT_EQ(winner_in(w, "n3"), "");
  EXPECT_EQ(winner_in(w, "n2"), "n2");
}

TEST(Election, HigherLsnBeatsHigherPriority) {
  World w = lost_primary(3);
  w.set_tags("n2", priority(1000));
  w.set_flush("n3", World::kBase + 8);
  all_report(w, {"n2", "n3"});
  EXPECT_EQ(winner_in(w, "n2"), "");
  EXPECT_EQ(winner_in(w, "n3"), "n3");
}

TEST(Election, HigherTimelineBeatsHigherLsn) {
  Candidate a{"a", 3, 0x100, {}};
  Candidate b{"b", 2, 0x900000, {}};
  EXPECT_TRUE(better_candidate(a, b));
  EXPECT_FALSE(better_candidate(b, a));
}

TEST(Election, PriorityZeroAndNofailoverNeverWin) {
  World w = lost_primary(4);
  w.set_tags("n2", priority(0));
  w.set_tags("n3", nofailover());
  w.set_flush("n2", World::kBase + 300);
  w.set_flush("n3", World::kBase + 200);
  for (const char* n : {"n2", "n3"}) {
    Decision d = w.step(n).decision;
    EXPECT_NE(find_write(d, "report position"), nullptr) << n << " cannot win, but reports its position (I3)";
  }
  all_report(w, {"n4"});
  EXPECT_EQ(winner_in(w, "n4"), "n4") << "n2 and n3 are not waited for";
}

TEST(Election, PriorityZeroAndNofailoverReportsAreIgnored) {
  // Reports carrying those tags (an older node, or tags changed mid-election) never win.
  World w = lost_primary(4);
  w.set_tags("n2", priority(0));
  w.set_tags("n3", nofailover());
  w.put_report(2, "n2", 1, World::kBase + 300);
  w.put_report(2, "n3", 1, World::kBase + 200);
  all_report(w, {"n4"});
  EtcdView v = w.view();
  ElectionOutcome out = decide_election(w.config, v, 2, true);
  ASSERT_TRUE(out.winner.has_value()) << out.reason;
  EXPECT_EQ(*out.winner, "n4");
}

TEST(Election, NofailoverSyncMemberAheadBlocksAPromotionThatWouldLoseItsCommits) {
  // Record {n2, n3} quorum 1: either alone holds every acknowledged commit. n3 (nofailover) is
  // ahead of n2: promoting n2 could lose commits only n3 (and the dead primary) acknowledged.
  World w = lost_primary(3);
  StateRecord s = w.state();
  s.sync_active = true;
  s.sync_quorum = 1;
  s.sync_standbys = {"n2", "n3"};
  w.put_state(s);
  w.set_tags("n3", nofailover());
  w.put_report(2, "n2", 1, World::kBase + 100);
  w.put_report(2, "n3", 1, World::kBase + 300);
  ElectionOutcome out = decide_election(w.config, w.view(), 2, true);
  EXPECT_FALSE(out.winner.has_value()) << out.reason;
  EXPECT_NE(out.reason.find("n3 is at"), std::string::npos) << out.reason;
  w.put_report(2, "n2", 1, World::kBase + 300);   // n2 catches up (same position): it may win
  out = decide_election(w.config, w.view(), 2, true);
  ASSERT_TRUE(out.winner.has_value()) << out.reason;
  EXPECT_EQ(*out.winner, "n2");
}

TEST(Election, NoEligibleCandidateNoWinner) {
  World w = lost_primary(2);
  w.set_tags("n2", priority(0));
  w.put_report(2, "n2", 1, World::kBase);
  w.advance(w.config.election_wait_ms * 5);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("no eligible candidate"), std::string::npos) << d.reason;
}

TEST(Election, CandidateBeyondMaximumLagIsRefused) {
  World w = lost_primary(2);
  w.put_optime(1, World::kBase + 2 * kMiB);  // n2 is 2 MiB behind, the bound is 1 MiB
  w.run("n2");
  w.advance(w.config.election_wait_ms * 5);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("maximum_lag_on_failover"), std::string::npos) << d.reason;
}

TEST(Election, CandidateExactlyAtMaximumLagIsEligible) {
  World w = lost_primary(2);
  w.put_optime(1, World::kBase + static_cast<Lsn>(w.config.maximum_lag_on_failover));
  w.run("n2");
  EXPECT_EQ(winner_in(w, "n2"), "n2");
}

TEST(Election, LaggingCandidateLosesToOneWithinTheBound) {
  World w = lost_primary(3);
  w.put_optime(1, World::kBase + 2 * kMiB);
  w.set_flush("n3", World::kBase + 2 * kMiB - 10);
  all_report(w, {"n2", "n3"});
  EXPECT_EQ(winner_in(w, "n2"), "");
  EXPECT_EQ(winner_in(w, "n3"), "n3");
}

StateRecord with_sync(World& w, std::vector<std::string> set, int quorum) {
  StateRecord s = w.state();
  s.sync_active = true;
  s.sync_quorum = quorum;
  s.sync_standbys = std::move(set);
  return s;
}

TEST(Election, SyncModeOnlyARecordedSyncStandbyWins) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::On;
  World w = World::cluster(3, c);
  w.put_state(with_sync(w, {"n3"}, 1));
  w.kill("n1");
  w.set_flush("n2", World::kBase + 500);  // further ahead, but not synchronous: may miss nothing we know of
  all_report(w, {"n2", "n3"});
  EXPECT_EQ(winner_in(w, "n2"), "");
  EXPECT_EQ(winner_in(w, "n3"), "n3");
}

TEST(Election, SyncModeWithoutTheSyncStandbyNobodyWins) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::On;
  World w = World::cluster(3, c);
  w.put_state(with_sync(w, {"n3"}, 1));
  w.kill("n1");
  w.node("n3").obs.no_lease();  // n3 cannot report
  w.run("n2");
  w.advance(w.config.election_wait_ms * 10);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("synchronous set"), std::string::npos) << d.reason;
}

TEST(Election, QuorumKOfNWaitsForNMinusKPlusOneSyncReports) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::Quorum;
  c.synchronous_node_count = 2;
  World w = World::cluster(5, c);
  w.put_state(with_sync(w, {"n2", "n3", "n4"}, 2));  // ANY 2 of 3: any 2 reports include a commit's holder
  w.kill("n1");
  w.set_flush("n5", World::kBase + 900);  // not recorded: never wins
  w.set_flush("n2", World::kBase + 100);
  w.run("n5");
  w.run("n2");
  w.advance(w.config.election_wait_ms * 10);
  Decision one = w.step("n2").decision;
  EXPECT_EQ(find_write(one, "take leadership"), nullptr) << describe(one);
  EXPECT_NE(one.reason.find("1 more report"), std::string::npos) << one.reason;

  w.set_flush("n4", World::kBase + 50);
  w.run("n4");
  EXPECT_EQ(winner_in(w, "n4"), "");
  EXPECT_EQ(winner_in(w, "n5"), "");
  EXPECT_EQ(winner_in(w, "n2"), "n2") << "best of the two synchronous reports";
}

TEST(Election, QuorumOneOfThreeNeedsAllThreeSyncReports) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::Quorum;
  World w = World::cluster(4, c);
  w.put_state(with_sync(w, {"n2", "n3", "n4"}, 1));
  w.kill("n1");
  all_report(w, {"n2", "n3"});
  w.advance(w.config.election_wait_ms * 10);
  EXPECT_EQ(winner_in(w, "n2"), "");
  all_report(w, {"n4"});
  EXPECT_EQ(winner_in(w, "n2"), "n2");
}

TEST(Election, StrictModeWithEmptyRecordedSetBlocksFailover) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::On;
  c.synchronous_mode_strict = true;
  World w = World::cluster(2, c);
  w.put_state(with_sync(w, {}, 0));
  w.kill("n1");
  w.run("n2");
  w.advance(w.config.election_wait_ms * 10);
  EXPECT_EQ(winner_in(w, "n2"), "");
}

TEST(Election, PausedMeansNoElection) {
  World w = World::cluster(3);
  StateRecord s = w.state();
  s.paused = true;
  w.put_state(s);
  w.kill("n1");
  w.advance(w.config.election_wait_ms * 10);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(d.state, NodeState::Paused) << describe(d);
  EXPECT_EQ(find_write(d, "report position"), nullptr);
  EXPECT_EQ(find_write(d, "take leadership"), nullptr);
  EXPECT_FALSE(d.promote);
}

TEST(Election, EveryNodeComputesTheSameWinner) {
  World w = lost_primary(5);
  w.set_flush("n3", World::kBase + 10);
  w.set_flush("n4", World::kBase + 10);
  w.set_tags("n4", priority(200));
  all_report(w, {"n2", "n3", "n4", "n5"});
  EtcdView v = w.view();
  ElectionOutcome out = decide_election(w.config, v, 2, false);
  ASSERT_TRUE(out.winner.has_value()) << out.reason;
  EXPECT_EQ(*out.winner, "n4");
  int takers = 0;
  for (const char* n : {"n2", "n3", "n4", "n5"}) takers += find_write(w.step(n).decision, "take leadership") ? 1 : 0;
  EXPECT_EQ(takers, 1);
}

TEST(Election, ExpectedReportersAreLivePromotableReplicas) {
  World w = World::cluster(5);
  w.set_tags("n2", priority(0));
  w.set_tags("n3", nofailover());
  w.node("n4").obs.stopped();
  w.publish_member("n4");
  EXPECT_EQ(expected_reporters(w.view()), std::vector<std::string>({"n5"}));
}

}  // namespace
}  // namespace pg_ha::unit
