// Planned switchover: the request (plan_switchover) and the primary's half (fence, wait for the
// candidate's flush, hand `leader` over under the candidate's lease), then the candidate promotes.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

std::string refusal(World& w, const std::string& candidate) {
  auto r = plan_switchover(w.keys, w.view(), w.config, candidate);
  return r.ok() ? "" : r.error().message;
}

TEST(PlanSwitchover, RefusesAnUnknownNode) {
  World w = World::cluster(3);
  std::string why = refusal(w, "n9");
  EXPECT_NE(why.find("no member \"n9\" is registered"), std::string::npos) << why;
  EXPECT_NE(why.find("or whether that node is down"), std::string::npos) << "a down node is not called unknown: " << why;
  EXPECT_NE(why.find("n1, n2, n3"), std::string::npos) << "lists the members: " << why;
}

TEST(PlanSwitchover, RefusesAnInvalidName) {
  World w = World::cluster(3);
  EXPECT_FALSE(refusal(w, "n2; drop table").empty());
}

TEST(PlanSwitchover, RefusesThePrimaryItself) {
  World w = World::cluster(3);
  std::string why = refusal(w, "n1");
  EXPECT_NE(why.find("already the primary"), std::string::npos) << why;
}

TEST(PlanSwitchover, RefusesANofailoverNode) {
  World w = World::cluster(3);
  Tags t;
  t.nofailover = true;
  w.set_tags("n2", t);
  EXPECT_EQ(refusal(w, "n2"), "cannot switch over: n2 is tagged nofailover");
}

TEST(PlanSwitchover, RefusesAPriorityZeroNode) {
  World w = World::cluster(3);
  Tags t;
  t.priority = 0;
  w.set_tags("n2", t);
  EXPECT_EQ(refusal(w, "n2"), "cannot switch over: n2 has priority 0");
}

TEST(PlanSwitchover, RefusesANodeNotStreamingFromThePrimary) {
  World w = World::cluster(3);
  w.node("n2").obs.replica_of("n3");  // cascading
  w.publish_member("n2");
  std::string why = refusal(w, "n2");
  EXPECT_NE(why.find("not streaming from the primary"), std::string::npos) << why;
  w.node("n2").obs.replica_of("n1", false);  // disconnected
  w.publish_member("n2");
  EXPECT_NE(refusal(w, "n2").find("not streaming"), std::string::npos);
}

TEST(PlanSwitchover, RefusesAStoppedNode) {
  World w = World::cluster(3);
  w.node("n2").obs.stopped();
  w.publish_member("n2");
  EXPECT_NE(refusal(w, "n2").find("not a running replica"), std::string::npos) << refusal(w, "n2");
}

TEST(PlanSwitchover, RefusesANodeWhoseReportAfterTheOptimeLags) {
  World w = World::cluster(3);
  w.put_optime(1, World::kBase + 4 * 1048576);
  w.publish_member("n2");  // still at kBase, reported after the optime
  std::string why = refusal(w, "n2");
  EXPECT_NE(why.find("maximum_lag_on_failover"), std::string::npos) << why;
  auto any = plan_switchover(w.keys, w.view(), w.config, "");
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(decode_state(find_put(any->txn, w.keys.state())->value)->request->to, "n3")
      << "n2 reported after the optime and lags; n3's report predates it (the primary checks n3 live)";
}

// A busy primary's optime, written after a caught-up replica's last report, is ahead of that
// report by what the primary wrote in between (the CI failure of Slots.EachReplicaStreams...:
// "15376280 bytes behind" right after a bulk insert).
TEST(PlanSwitchover, AcceptsACandidateWhoseReportPredatesTheOptime) {
  World w = World::cluster(3);
  w.put_optime(1, World::kBase + 16 * 1048576);
  EXPECT_EQ(refusal(w, "n2"), "");
  auto any = plan_switchover(w.keys, w.view(), w.config, "");
  EXPECT_TRUE(any.ok()) << any.error().message;
}

// pg_ha.switchover() reads etcd again for a while only when lag alone refuses it: a replica tagged
// nofailover is refused at once, even while another replica's report lags (the predicate before
// waited whenever any replica's report lagged).
TEST(PlanSwitchover, OnlyALagRefusalIsWorthWaitingFor) {
  World w = World::cluster(3);
  w.put_optime(1, World::kBase + 4 * 1048576);
  w.publish_member("n2");   // lags, reported after the optime
  w.publish_member("n3");
  EXPECT_TRUE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "n2"));
  EXPECT_TRUE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "")) << "both lag: either may catch up";
  Tags never;
  never.nofailover = true;
  w.set_tags("n2", never);
  w.set_tags("n3", never);
  EXPECT_FALSE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "")) << "nobody may be promoted: final";
  EXPECT_FALSE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "n3")) << "nofailover is final";
  EXPECT_FALSE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "n7")) << "an unknown node is final";
  w.put_optime(1, World::kBase);
  EXPECT_FALSE(switchover_refused_only_for_lag(w.keys, w.view(), w.config, "n2")) << "not refused at all";
}

TEST(PlanSwitchover, RefusesASecondRequestWhilePending) {
  World w = World::cluster(3);
  auto first = plan_switchover(w.keys, w.view(), w.config, "n2");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(w.etcd.apply(first->txn), TxnOutcome::Succeeded);
  std::string why = refusal(w, "n3");
  EXPECT_NE(why.find("already in progress"), std::string::npos) << why;
}

TEST(PlanSwitchover, RefusesWithoutALeader) {
  World w = World::cluster(3);
  w.kill("n1");
  std::string why = refusal(w, "n2");
  EXPECT_NE(why.find("no primary"), std::string::npos) << why;
  EXPECT_NE(why.find("failover()"), std::string::npos) << "points to the right tool: " << why;
}

TEST(PlanSwitchover, RefusesBeforeBootstrap) {
  World w;
  w.add_node("n1");
  EXPECT_NE(refusal(w, "n1").find("bootstrapping"), std::string::npos);
}

TEST(PlanSwitchover, AcceptedWritesTheRequestIntoStateWithACompare) {
  World w = World::cluster(3);
  EtcdView v = w.view();
  auto r = plan_switchover(w.keys, v, w.config, "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_compare(r->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  ASSERT_EQ(r->txn.success.size(), 1u);
  auto s = decode_state(find_put(r->txn, w.keys.state())->value);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->request.has_value());
  EXPECT_EQ(s->request->from, "n1");
  EXPECT_EQ(s->request->to, "n2");
  EXPECT_FALSE(s->request->failover);
  EXPECT_EQ(s->term, 1) << "the request changes nothing else";
  EXPECT_EQ(s->primary, "n1");
}

TEST(PlanSwitchover, WithoutACandidatePicksTheBestStreamingReplica) {
  World w = World::cluster(4);
  w.set_flush("n3", World::kBase + 10);
  Tags t;
  t.nofailover = true;
  w.set_tags("n4", t);
  w.set_flush("n4", World::kBase + 20);
  auto r = plan_switchover(w.keys, w.view(), w.config, "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(decode_state(find_put(r->txn, w.keys.state())->value)->request->to, "n3");
}

TEST(PlanSwitchover, WorksWhilePausedWithAnExplicitCandidate) {
  World w = World::cluster(3);
  StateRecord s = w.state();
  s.paused = true;
  w.put_state(s);
  auto r = plan_switchover(w.keys, w.view(), w.config, "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  w.etcd.apply(r->txn);
  w.step("n1");
  w.advance(10);
  EXPECT_NE(find_write(w.step("n1").decision, "hand leadership to n2"), nullptr) << "pause does not block it";
}

// ---- the primary's half ----------------------------------------------------------------------

// n1 leads, n2 is asked to take over; n1's flush position is ahead of n2's.
World requested(Lsn primary_flush = World::kBase + 0x80) {
  World w = World::cluster(3);
  w.node("n1").obs.flush(primary_flush);
  auto r = plan_switchover(w.keys, w.view(), w.config, "n2");
  EXPECT_TRUE(r.ok()) << r.error().message;
  w.etcd.apply(r->txn);
  return w;
}

// FINDINGS.md F24: the candidate's record may still name its previous lease (its key was moved
// onto a new one, the rewrite of the value not yet landed). `leader` goes onto the lease the key
// lives on, and the compare checks that one: the old lease may be revoked at any moment.
TEST(Switchover, HandsOverOnTheLeaseTheCandidatesKeyLivesOn) {
  World w = requested(World::kBase);
  MemberRecord stale = w.member_record("n2");
  int64_t old_lease = w.lease_of("n2");
  int64_t moved_to = w.new_lease("n2");
  stale.lease_id = old_lease;
  w.put_member(stale, moved_to);
  w.node("n1").obs.standby("n2", World::kBase);
  w.step("n1");
  w.advance(10);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "hand leadership to n2");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::lease_is(w.keys.member("n2"), moved_to))) << describe(t->txn);
  EXPECT_EQ(find_put(t->txn, w.keys.leader())->lease, moved_to);
  EXPECT_EQ(w.apply_writes(d).front(), TxnOutcome::Succeeded) << "the compare holds against etcd";
}

TEST(Switchover, FirstStepFencesAndDoesNotHandOver) {
  World w = requested(World::kBase);
  w.node("n1").obs.standby("n2", World::kBase);  // already caught up: still no hand-over in this step
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, 0);
  EXPECT_NE(d.fence_reason.find("switchover to n2"), std::string::npos) << d.fence_reason;
  EXPECT_EQ(find_write(d, "hand leadership"), nullptr) << describe(d);
  EXPECT_LE(d.wake_at_ms, w.now + 100) << "steps again soon to hand over";
}

TEST(Switchover, HandsOverOnlyOnceTheCandidateHasFlushedEverything) {
  World w = requested(World::kBase + 0x80);
  w.node("n1").obs.standby("n2", World::kBase);
  w.step("n1");
  w.advance(10);
  Decision waiting = w.step("n1").decision;
  EXPECT_TRUE(waiting.fenced);
  EXPECT_EQ(find_write(waiting, "hand leadership"), nullptr) << describe(waiting);
  EXPECT_NE(waiting.reason.find("waiting for n2"), std::string::npos) << waiting.reason;

  w.node("n1").obs.standby("n2", World::kBase + 0x80);
  w.advance(10);
  EtcdView v = w.view();
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(d.write_deadline_ms, 0);
  const EtcdWrite* t = find_write(d, "hand leadership to n2");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.leader(), v.leader->mod_revision)));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::lease_is(w.keys.member("n2"), w.lease_of("n2"))));
  const kv::RequestOp* leader = find_put(t->txn, w.keys.leader());
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->lease, w.lease_of("n2")) << "leader is put under the candidate's lease";
  auto l = decode_leader(leader->value);
  EXPECT_EQ(l->name, "n2");
  EXPECT_EQ(l->term, 2);
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->term, 2);
  EXPECT_EQ(s->primary, "n2");
  EXPECT_FALSE(s->request.has_value()) << "the request is done with the new term";
  auto h = decode_history(find_put(t->txn, w.keys.history(2))->value);
  EXPECT_EQ(h->reason, "switchover");
  EXPECT_EQ(h->old_primary, "n1");
  EXPECT_EQ(h->lsn, World::kBase + 0x80);

  ASSERT_EQ(w.apply_writes(d).front(), TxnOutcome::Succeeded);
  Decision candidate = w.step("n2").decision;
  EXPECT_TRUE(candidate.promote) << "the candidate promotes as soon as it sees the key: " << describe(candidate);
  Decision old = w.step("n1").decision;
  EXPECT_TRUE(old.fenced);
  ASSERT_TRUE(old.sidecar.has_value()) << describe(old);
  EXPECT_EQ(old.sidecar->kind, SidecarRequest::Kind::Demote);
  EXPECT_EQ(old.sidecar->primary, "n2");
  Decision other = w.step("n3").decision;
  ASSERT_TRUE(other.follow.has_value());
  EXPECT_EQ(other.follow->name, "n2");
}

TEST(Switchover, HandOverFailsIfTheCandidateLostItsLease) {
  World w = requested(World::kBase);
  w.node("n1").obs.standby("n2", World::kBase);
  w.step("n1");
  w.advance(10);
  Decision d = w.step("n1").decision;
  ASSERT_NE(find_write(d, "hand leadership"), nullptr) << describe(d);
  w.expire_lease("n2");
  std::vector<TxnOutcome> out = w.apply_writes(d);
  EXPECT_NE(out.front(), TxnOutcome::Succeeded);
  EXPECT_EQ(decode_leader(w.etcd.get(w.keys.leader())->value)->name, "n1");
}

TEST(Switchover, TimeoutClearsTheRequestAndUnfencesLater) {
  World w = requested(World::kBase + 0x80);
  w.node("n1").obs.standby("n2", World::kBase);  // never catches up
  w.step("n1");
  w.advance(w.config.switchover_timeout_ms);
  // run: the fixture jumped 10 s without stepping, so the gate's licence lapsed and this step
  // re-arms it (docs/protocol.md, "Fast takeover"); its writes land.
  EXPECT_EQ(find_write(w.run("n1").decision, "clear switchover request"), nullptr) << "not yet";
  w.advance(1);
  EtcdView v = w.view();
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "clear switchover request");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  EXPECT_FALSE(decode_state(find_put(t->txn, w.keys.state())->value)->request.has_value());
  EXPECT_NE(d.reason.find("aborted"), std::string::npos) << d.reason;
  EXPECT_EQ(find_write(d, "hand leadership"), nullptr);
  EXPECT_TRUE(d.fenced);

  w.apply_writes(d);
  Decision after = w.step("n1").decision;
  EXPECT_FALSE(after.fenced) << "back to leading, no restart: " << describe(after);
  EXPECT_GT(after.write_deadline_ms, w.now);
  EXPECT_FALSE(after.sidecar.has_value());
}

// The primary does not apply maximum_lag_on_failover again: a candidate behind by a burst (a WAL
// switch ships the rest of a 16 MB segment) is waited for, and switchover_timeout_ms bounds the
// wait for one that cannot catch up (TimeoutClearsTheRequestAndUnfencesLater).
TEST(Switchover, ACandidateBehindByABurstIsWaitedFor) {
  World w = requested(World::kBase + 16 * 1048576);
  w.node("n1").obs.standby("n2", World::kBase);
  Decision d = w.step("n1").decision;
  EXPECT_EQ(find_write(d, "clear switchover request"), nullptr) << describe(d);
  EXPECT_TRUE(d.fenced);
}

TEST(Switchover, CandidateThatVanishedIsRefusedOnThePrimary) {
  World w = requested();
  w.kill("n2");
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "clear switchover request");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_NE(d.reason.find("n2 is no longer registered"), std::string::npos) << d.reason;
}

TEST(Switchover, CandidateNotConnectedIsRefusedOnThePrimary) {
  World w = requested();
  w.node("n1").obs.no_standbys();
  Decision d = w.step("n1").decision;
  ASSERT_NE(find_write(d, "clear switchover request"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("not streaming"), std::string::npos) << d.reason;
}

TEST(Switchover, MemoryOfAnEarlierSwitchoverDoesNotSkipTheFenceStep) {
  // n1 handed over to n2 once (its memory still says switchover_to = n2), was a replica, and is
  // primary again; an operator asks for n2 again before n1 ran a step without a request.
  World w = requested(World::kBase);
  w.node("n1").obs.standby("n2", World::kBase);
  w.node("n1").mem.switchover_to = "n2";
  w.node("n1").mem.switchover_started_ms = w.now - 3000;  // within the timeout
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(find_write(d, "hand leadership"), nullptr) << describe(d);
  EXPECT_EQ(find_write(d, "clear switchover request"), nullptr) << describe(d);
}

TEST(Switchover, ReplicaLifeForgetsAnEarlierSwitchover) {
  World w = World::cluster(3);
  w.node("n2").mem.switchover_to = "n3";
  w.node("n2").mem.switchover_started_ms = w.now;
  NodeMemory after = w.step("n2").memory;
  EXPECT_TRUE(after.switchover_to.empty());
}

TEST(Switchover, ReplicasIgnoreAPlannedRequestWhileTheLeaderLives) {
  World w = requested();
  for (const char* n : {"n2", "n3"}) {
    Decision d = w.step(n).decision;
    EXPECT_FALSE(d.promote);
    EXPECT_EQ(find_write(d, "leadership"), nullptr);
    ASSERT_TRUE(d.follow.has_value());
    EXPECT_EQ(d.follow->name, "n1");
  }
}

}  // namespace
}  // namespace pg_ha::unit
