// Manual failover to a named candidate: planning (plan_failover) and the candidate taking
// leadership at once, without an election.
#include <gtest/gtest.h>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

Result<EtcdWrite> plan(World& w, const std::string& candidate, bool force = false) {
  return plan_failover(w.keys, w.view(), w.config, candidate, force);
}

SwitchoverRequest request_in(World& w, const EtcdWrite& e) {
  auto s = decode_state(find_put(e.txn, w.keys.state())->value);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s->request.has_value());
  return s->request.value_or(SwitchoverRequest{});
}

void set_paused(World& w) {
  StateRecord s = w.state();
  s.paused = true;
  w.put_state(s);
}

void set_sync(World& w, std::vector<std::string> names) {
  StateRecord s = w.state();
  s.sync_active = true;
  s.sync_quorum = 1;
  s.sync_standbys = std::move(names);
  w.put_state(s);
}

TEST(PlanFailover, WorksWithNoLeader) {
  World w = World::cluster(3);
  w.kill("n1");
  EtcdView v = w.view();
  auto r = plan(w, "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_compare(r->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  SwitchoverRequest q = request_in(w, *r);
  EXPECT_EQ(q.from, "");
  EXPECT_EQ(q.to, "n2");
  EXPECT_TRUE(q.failover);
  EXPECT_FALSE(q.force);
}

TEST(PlanFailover, WorksWhilePaused) {
  World w = World::cluster(3);
  set_paused(w);
  w.kill("n1");
  auto r = plan(w, "n3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(decode_state(find_put(r->txn, w.keys.state())->value)->paused) << "pause is kept";
}

TEST(PlanFailover, WithALiveLeaderNamesItAsFrom) {
  World w = World::cluster(3);
  auto r = plan(w, "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(request_in(w, *r).from, "n1");
}

TEST(PlanFailover, RefusesANonSyncCandidateInActiveSyncModeUnlessForced) {
  World w = World::cluster(3);
  set_sync(w, {"n3"});
  w.kill("n1");
  auto r = plan(w, "n2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("synchronous set"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("force"), std::string::npos) << r.error().message;
  auto forced = plan(w, "n2", true);
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_TRUE(request_in(w, *forced).force);
  EXPECT_TRUE(plan(w, "n3").ok()) << "a recorded sync standby needs no force";
}

TEST(PlanFailover, RefusesBadCandidates) {
  World w = World::cluster(4);
  Tags nf;
  nf.nofailover = true;
  w.set_tags("n3", nf);
  w.node("n4").obs.stopped();
  w.publish_member("n4");
  EXPECT_NE(plan(w, "").error().message.find("candidate"), std::string::npos);
  EXPECT_NE(plan(w, "n9").error().message.find("no member \"n9\" is registered"), std::string::npos);
  EXPECT_NE(plan(w, "n1").error().message.find("already the primary"), std::string::npos);
  EXPECT_NE(plan(w, "n3").error().message.find("nofailover"), std::string::npos);
  EXPECT_NE(plan(w, "n4").error().message.find("not a running replica"), std::string::npos);
}

TEST(PlanFailover, RefusesBeforeBootstrap) {
  World w;
  w.add_node("n1");
  EXPECT_FALSE(plan(w, "n1").ok());
}

// n1 is lost; an operator asked for failover to `to`.
World failover_requested(const std::string& to, bool paused = false, bool force = false) {
  World w = World::cluster(3);
  if (paused) set_paused(w);
  w.kill("n1");
  auto r = plan_failover(w.keys, w.view(), w.config, to, force);
  EXPECT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(w.etcd.apply(r->txn), TxnOutcome::Succeeded);
  return w;
}

TEST(Failover, CandidateTakesLeadershipWithoutWaitingForAnElection) {
  World w = failover_requested("n3");
  w.set_flush("n2", World::kBase + 100);  // better position, but the operator chose n3
  EtcdView v = w.view();
  Decision d = w.step("n3").decision;
  const EtcdWrite* t = find_write(d, "take leadership for term 2 (manual failover)");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.leader())));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  EXPECT_EQ(find_write(d, "report position"), nullptr) << "no report needed";
  EXPECT_EQ(find_put(t->txn, w.keys.leader())->lease, w.lease_of("n3"));
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  EXPECT_EQ(s->primary, "n3");
  EXPECT_FALSE(s->request.has_value());
  EXPECT_EQ(decode_history(find_put(t->txn, w.keys.history(2))->value)->reason, "manual failover");

  ASSERT_EQ(w.apply_writes(d).front(), TxnOutcome::Succeeded);
  EXPECT_TRUE(w.step("n3").decision.promote);
  Decision n2 = w.step("n2").decision;
  ASSERT_TRUE(n2.follow.has_value());
  EXPECT_EQ(n2.follow->name, "n3");
  EXPECT_EQ(find_write(n2, "take leadership"), nullptr);
}

TEST(Failover, CandidateTakesLeadershipWhilePaused) {
  World w = failover_requested("n2", /*paused=*/true);
  Decision other = w.step("n3").decision;
  EXPECT_EQ(other.state, NodeState::Paused) << "no automatic election for the others";
  Decision d = w.step("n2").decision;
  ASSERT_NE(find_write(d, "take leadership"), nullptr) << describe(d);
  w.apply_writes(d);
  EXPECT_TRUE(w.state().paused) << "the new term stays paused";
  EXPECT_TRUE(w.step("n2").decision.promote);
}

TEST(Failover, CandidateOutsideTheSyncSetRefusesUnlessForced) {
  World w = World::cluster(3);
  w.kill("n1");
  auto r = plan_failover(w.keys, w.view(), w.config, "n2", false);
  ASSERT_TRUE(r.ok());
  w.etcd.apply(r->txn);
  set_sync(w, {"n3"});  // the set changed after the request was recorded
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_NE(d.reason.find("not in the synchronous set"), std::string::npos) << d.reason;
}

TEST(Failover, ForcedCandidateOutsideTheSyncSetTakesLeadership) {
  World w = World::cluster(3);
  set_sync(w, {"n3"});
  w.kill("n1");
  auto r = plan_failover(w.keys, w.view(), w.config, "n2", true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  w.etcd.apply(r->txn);
  EXPECT_NE(find_write(w.step("n2").decision, "take leadership"), nullptr);
}

TEST(Failover, WithALivePrimaryItHandsOver) {
  World w = World::cluster(3);
  auto r = plan_failover(w.keys, w.view(), w.config, "n2", false);
  ASSERT_TRUE(r.ok());
  w.etcd.apply(r->txn);
  Decision replica = w.step("n2").decision;
  EXPECT_EQ(find_write(replica, "take leadership"), nullptr) << "leader alive: the primary hands over";
  EXPECT_TRUE(w.step("n1").decision.fenced);
  w.advance(10);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "hand leadership to n2");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_EQ(decode_history(find_put(t->txn, w.keys.history(2))->value)->reason, "manual failover");
}

}  // namespace
}  // namespace pg_ha::unit
