// Acceptance scenarios (in the spirit of Patroni's features): several nodes stepped in sequence
// against one etcd, each decision applied, with I1 (at most one node may commit at any instant)
// and I2 (promotion only with a committed term) checked after every step.
#include <gtest/gtest.h>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// Runs nodes and checks the invariants that can be seen from outside after every step.
class Scenario {
 public:
  explicit Scenario(World& w) : w_(w) {}

  Decision run(const std::string& name) {
    Decision d = w_.run(name).decision;
    deadline_[name] = d.write_deadline_ms;
    check_one_writer();
    if (d.promote) check_committed_promotion(name);
    return d;
  }

  // Every live node steps once (in name order), then `ms` pass.
  void round(const std::vector<std::string>& names, TimeMs ms = 100) {
    for (const std::string& n : names) {
      if (!w_.node(n).dead) run(n);
    }
    w_.advance(ms);
    check_one_writer();
  }

  void forget(const std::string& name) { deadline_.erase(name); }

 private:
  void check_one_writer() {
    std::vector<std::string> writers;
    for (const auto& [n, dl] : deadline_) {
      if (!w_.node(n).dead && dl > w_.now) writers.push_back(n);
    }
    EXPECT_LE(writers.size(), 1u) << "I1: " << writers.front() << " and " << writers.back()
                                  << " may both commit at " << w_.now;
  }

  void check_committed_promotion(const std::string& name) {
    EtcdView v = w_.view();
    ASSERT_TRUE(v.leader && v.state) << "I2: " << name << " promotes without a committed term";
    EXPECT_EQ(v.leader->value.name, name) << "I2";
    EXPECT_EQ(v.leader->lease, w_.lease_of(name)) << "I2: leader must be under the promoting node's lease";
    EXPECT_EQ(v.state->value.primary, name) << "I2";
    EXPECT_EQ(v.state->value.term, v.leader->value.term) << "I2";
  }

  World& w_;
  std::map<std::string, TimeMs> deadline_;
};

const std::vector<std::string> kThree = {"n1", "n2", "n3"};

std::string leader_name(World& w) {
  EtcdView v = w.view();
  return v.leader ? v.leader->value.name : "";
}

// The sidecar turned a demoted primary into a standby of `primary` (after pg_rewind).
void sidecar_demoted(World& w, const std::string& name, const std::string& primary) {
  uint32_t tl = w.node(primary).obs.get().local.timeline;
  w.node(name).obs.replica_of(primary).timeline(tl);
}

TEST(Scenario, KillPrimaryTheBestReplicaTakesOverAndTheOtherFollows) {
  World w = World::cluster(3);
  Scenario s(w);
  w.set_flush("n3", World::kBase + 0x40);
  s.round(kThree);
  ASSERT_EQ(leader_name(w), "n1");

  w.kill("n1");  // the machine is gone: its lease expires, so does `leader`
  s.forget("n1");
  for (int i = 0; i < 5 && w.node("n3").obs.get().local.in_recovery; ++i) s.round({"n2", "n3"});
  EXPECT_FALSE(w.node("n3").obs.get().local.in_recovery) << "n3 (furthest ahead) promoted";
  EXPECT_TRUE(w.node("n2").obs.get().local.in_recovery);
  s.round({"n2", "n3"});

  StateRecord st = w.state();
  EXPECT_EQ(st.term, 2);
  EXPECT_EQ(st.primary, "n3");
  EXPECT_EQ(st.timeline, 2u) << "the new primary recorded its timeline";
  EXPECT_EQ(leader_name(w), "n3");
  Decision p = s.run("n3");
  EXPECT_FALSE(p.fenced) << describe(p);
  EXPECT_GT(p.write_deadline_ms, w.now);
  Decision r = s.run("n2");
  ASSERT_TRUE(r.follow.has_value());
  EXPECT_EQ(r.follow->name, "n3");
  EXPECT_FALSE(r.sidecar.has_value()) << "n2 was behind the branch point: no rewind";
  EXPECT_TRUE(w.etcd.keys_with_prefix(w.keys.election_prefix()).empty());
  ASSERT_EQ(w.view().history.count(2), 1u);
  EXPECT_EQ(w.view().history.at(2).value.reason, "failover");
}

TEST(Scenario, PartitionedPrimaryFencesBeforeItsLeaseExpiresThenDemotes) {
  World w = World::cluster(3);
  Scenario s(w);
  s.round(kThree);
  w.isolate("n1");  // n1 keeps running but cannot reach etcd
  TimeMs lost_at = w.now;
  while (w.now < lost_at + w.config.ttl_s * 1000) s.round(kThree, 250);
  Decision fenced = s.run("n1");
  EXPECT_TRUE(fenced.fenced) << "fenced long before the lease can expire";
  w.expire_lease("n1");  // etcd's clock: ttl passed without a keep-alive
  for (int i = 0; i < 20 && leader_name(w).empty(); ++i) s.round(kThree);
  ASSERT_EQ(leader_name(w), "n2") << "equal positions: the smaller name wins";
  s.round(kThree);
  EXPECT_FALSE(w.node("n2").obs.get().local.in_recovery);

  w.reconnect("n1");
  w.new_lease("n1");
  Decision back = s.run("n1");
  EXPECT_TRUE(back.fenced);
  EXPECT_EQ(find_write(back, "reclaim"), nullptr) << "someone else was promoted: no reclaim";
  ASSERT_TRUE(back.sidecar.has_value()) << describe(back);
  EXPECT_EQ(back.sidecar->kind, SidecarRequest::Kind::Demote);
  EXPECT_EQ(back.sidecar->primary, "n2");

  sidecar_demoted(w, "n1", "n2");
  Decision follows = s.run("n1");
  ASSERT_TRUE(follows.follow.has_value());
  EXPECT_EQ(follows.follow->name, "n2");
}

TEST(Scenario, EtcdHiccupOldPrimaryReclaimsInTheSameLineage) {
  World w = World::cluster(3);
  Scenario s(w);
  s.round(kThree);
  w.isolate("n1");
  w.advance(w.config.ttl_s * 1000);
  EXPECT_TRUE(s.run("n1").fenced);
  w.expire_lease("n1");
  s.round({"n2", "n3"}, 10);  // replicas report for term 2; the election wait is not over
  ASSERT_EQ(w.etcd.keys_with_prefix(w.keys.election_term_prefix(2)).size(), 2u);

  w.reconnect("n1");
  w.new_lease("n1");
  Decision reclaim = s.run("n1");
  ASSERT_NE(find_write(reclaim, "reclaim"), nullptr) << describe(reclaim);
  ASSERT_EQ(w.last_outcomes.front(), TxnOutcome::Succeeded);
  Decision lead = s.run("n1");
  EXPECT_FALSE(lead.fenced) << describe(lead);
  EXPECT_FALSE(lead.sidecar.has_value()) << "no restart";
  EXPECT_EQ(w.node("n1").obs.get().local.timeline, 1u) << "no new timeline";
  EXPECT_EQ(w.state().term, 1) << "same term";
  EXPECT_TRUE(w.etcd.keys_with_prefix(w.keys.election_prefix()).empty()) << "reports cleaned up";
  for (int i = 0; i < 20; ++i) s.round(kThree);
  EXPECT_EQ(leader_name(w), "n1");
  EXPECT_TRUE(w.node("n2").obs.get().local.in_recovery);
  EXPECT_TRUE(w.node("n3").obs.get().local.in_recovery);
}

TEST(Scenario, PlannedSwitchover) {
  World w = World::cluster(3);
  Scenario s(w);
  w.node("n1").obs.flush(World::kBase + 0x100);
  w.refresh_standbys("n1");
  s.round(kThree);
  auto req = plan_switchover(w.keys, w.view(), w.config, "n2");
  ASSERT_TRUE(req.ok()) << req.error().message;
  ASSERT_EQ(w.etcd.apply(req->txn), TxnOutcome::Succeeded);

  Decision fence = s.run("n1");
  EXPECT_TRUE(fence.fenced);
  s.round(kThree, 10);
  EXPECT_EQ(leader_name(w), "n1") << "n2 has not caught up yet";
  w.set_flush("n2", World::kBase + 0x100);  // the last WAL arrives
  w.refresh_standbys("n1");
  for (int i = 0; i < 5 && w.node("n2").obs.get().local.in_recovery; ++i) s.round(kThree, 10);
  EXPECT_FALSE(w.node("n2").obs.get().local.in_recovery) << "n2 promoted";
  EXPECT_EQ(leader_name(w), "n2");
  EXPECT_EQ(w.view().leader->lease, w.lease_of("n2"));
  StateRecord st = w.state();
  EXPECT_EQ(st.term, 2);
  EXPECT_FALSE(st.request.has_value());

  Decision old = s.run("n1");
  ASSERT_TRUE(old.sidecar.has_value());
  EXPECT_EQ(old.sidecar->kind, SidecarRequest::Kind::Demote);
  sidecar_demoted(w, "n1", "n2");
  s.round(kThree);
  Decision n3 = s.run("n3");
  ASSERT_TRUE(n3.follow.has_value());
  EXPECT_EQ(n3.follow->name, "n2");
  Decision n2 = s.run("n2");
  EXPECT_FALSE(n2.fenced) << describe(n2);
  EXPECT_EQ(w.view().history.at(2).value.reason, "switchover");
}

TEST(Scenario, SwitchoverToAnUnknownOrLaggingNodeIsRefusedWithAReason) {
  World w = World::cluster(3);
  w.put_optime(1, World::kBase + 8 * 1048576);
  w.set_flush("n3", World::kBase + 8 * 1048576);
  w.publish_member("n2");  // at kBase, reported after the optime: it lags (an older report is not held against it)
  auto unknown = plan_switchover(w.keys, w.view(), w.config, "n7");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("no member \"n7\" is registered"), std::string::npos);
  auto lagging = plan_switchover(w.keys, w.view(), w.config, "n2");
  ASSERT_FALSE(lagging.ok());
  EXPECT_NE(lagging.error().message.find("behind"), std::string::npos) << lagging.error().message;
  EXPECT_TRUE(plan_switchover(w.keys, w.view(), w.config, "n3").ok());
}

TEST(Scenario, FailoverToANamedCandidateWhilePausedWithNoPrimary) {
  World w = World::cluster(3);
  Scenario s(w);
  auto pause = plan_pause(w.keys, w.view(), true);
  ASSERT_TRUE(pause.ok());
  w.etcd.apply(pause->txn);
  s.round(kThree);
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 30; ++i) s.round({"n2", "n3"});
  EXPECT_EQ(leader_name(w), "") << "paused: no automatic failover";

  auto fo = plan_failover(w.keys, w.view(), w.config, "n3", false);
  ASSERT_TRUE(fo.ok()) << fo.error().message;
  w.etcd.apply(fo->txn);
  for (int i = 0; i < 3; ++i) s.round({"n2", "n3"});
  EXPECT_EQ(leader_name(w), "n3");
  EXPECT_FALSE(w.node("n3").obs.get().local.in_recovery);
  EXPECT_TRUE(w.state().paused);
  EXPECT_EQ(w.view().history.at(2).value.reason, "manual failover");
}

TEST(Scenario, PriorityZeroIsNeverPromoted) {
  World w = World::cluster(2);
  Scenario s(w);
  Tags zero;
  zero.priority = 0;
  w.node("n2").cfg.tags = zero;
  s.round({"n1", "n2"});
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 50; ++i) s.round({"n2"}, 500);
  EXPECT_EQ(leader_name(w), "");
  EXPECT_TRUE(w.node("n2").obs.get().local.in_recovery);
  EXPECT_FALSE(w.etcd.keys_with_prefix(w.keys.election_prefix()).empty()) << "it reports, and never wins";
}

TEST(Scenario, EqualLsnHigherPriorityWins) {
  World w = World::cluster(4);
  Scenario s(w);
  Tags high;
  high.priority = 150;
  w.node("n4").cfg.tags = high;
  s.round({"n1", "n2", "n3", "n4"});
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 5; ++i) s.round({"n2", "n3", "n4"});
  EXPECT_EQ(leader_name(w), "n4");
}

TEST(Scenario, PauseBlocksAutomaticFailoverUntilResumed) {
  World w = World::cluster(3);
  Scenario s(w);
  auto pause = plan_pause(w.keys, w.view(), true);
  w.etcd.apply(pause->txn);
  s.round(kThree);
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 30; ++i) s.round({"n2", "n3"});
  EXPECT_EQ(leader_name(w), "");
  EXPECT_EQ(s.run("n2").state, NodeState::Paused);

  auto resume = plan_pause(w.keys, w.view(), false);
  ASSERT_TRUE(resume.ok());
  w.etcd.apply(resume->txn);
  for (int i = 0; i < 20 && leader_name(w).empty(); ++i) s.round({"n2", "n3"});
  EXPECT_EQ(leader_name(w), "n2");
}

TEST(Scenario, SynchronousStandbyIsTheOneThatTakesOver) {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::On;
  World w = World::cluster(3, c);
  Scenario s(w);
  for (int i = 0; i < 4; ++i) s.round(kThree);
  StateRecord st = w.state();
  ASSERT_TRUE(st.sync_active);
  ASSERT_EQ(st.sync_standbys, std::vector<std::string>({"n2"}));
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(1, {"n2"}));
  w.set_flush("n3", World::kBase + 0x10);  // n3 is further ahead, but asynchronous
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 20 && leader_name(w).empty(); ++i) s.round({"n2", "n3"});
  EXPECT_EQ(leader_name(w), "n2");
}

TEST(Scenario, FiveNodesLoseTwoPrimariesInARow) {
  World w = World::cluster(5);
  Scenario s(w);
  const std::vector<std::string> all = {"n1", "n2", "n3", "n4", "n5"};
  w.set_flush("n4", World::kBase + 0x20);
  w.set_flush("n5", World::kBase + 0x10);
  s.round(all);
  w.kill("n1");
  s.forget("n1");
  for (int i = 0; i < 10; ++i) s.round(all);
  ASSERT_EQ(leader_name(w), "n4");
  EXPECT_FALSE(w.node("n4").obs.get().local.in_recovery);
  for (const char* r : {"n2", "n3", "n5"}) {
    EXPECT_EQ(w.node(r).obs.get().local.upstream, "n4") << r;
  }
  w.refresh_standbys("n4");
  w.kill("n4");
  s.forget("n4");
  for (int i = 0; i < 10; ++i) s.round(all);
  EXPECT_EQ(leader_name(w), "n5");
  EXPECT_EQ(w.state().term, 3);
  EXPECT_EQ(w.node("n5").obs.get().local.timeline, 3u);
}

}  // namespace
}  // namespace pg_ha::unit
