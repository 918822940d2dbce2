// Operator requests of issue 16: reinit (a replica re-cloned from the primary) and remove (what
// etcd still holds of a stopped member).
#include <gtest/gtest.h>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

World settled(int n = 3) {
  World w = World::cluster(n);
  for (int i = 1; i <= n; ++i) w.run("n" + std::to_string(i));
  return w;
}

std::string refusal(const Result<EtcdWrite>& r) { return r.ok() ? "(accepted)" : r.error().message; }

// ---- reinit --------------------------------------------------------------------------------

TEST(PlanReinit, RefusesThePrimaryUnknownNodesAndASecondRequest) {
  World w = settled();
  EXPECT_NE(refusal(plan_reinit(w.keys, w.view(), "n1")).find("n1 is the primary"), std::string::npos);
  EXPECT_NE(refusal(plan_reinit(w.keys, w.view(), "n9")).find("no member \"n9\" is registered"), std::string::npos);
  EXPECT_NE(refusal(plan_reinit(w.keys, w.view(), "../x")).find("node name"), std::string::npos);
  auto r = plan_reinit(w.keys, w.view(), "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_compare(r->txn, kv::Compare::absent(w.keys.reinit("n2"))));
  ASSERT_EQ(w.etcd.apply(r->txn), TxnOutcome::Succeeded);
  EXPECT_TRUE(w.view().problems.empty()) << w.view().problems.front();
  EXPECT_EQ(w.view().reinit_requests.count("n2"), 1u);
  EXPECT_NE(refusal(plan_reinit(w.keys, w.view(), "n2")).find("already pending"), std::string::npos);
}

TEST(Reinit, RequestBecomesAReclonFromThePrimaryAndIsDeletedWhenDone) {
  World w = settled();
  ASSERT_EQ(w.etcd.apply(plan_reinit(w.keys, w.view(), "n2")->txn), TxnOutcome::Succeeded);
  int64_t rev = w.etcd.get(w.keys.reinit("n2"))->mod_revision;
  Decision d = w.step("n2").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Reclone);
  EXPECT_EQ(d.sidecar->id, "reinit-" + std::to_string(rev));
  EXPECT_EQ(d.sidecar->primary, "n1");
  EXPECT_FALSE(d.sidecar->primary_host.empty());
  EXPECT_EQ(d.state, NodeState::Recloning);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value()) << "only the named node is re-cloned";

  w.node("n2").obs.sidecar_done("reinit-" + std::to_string(rev));
  Decision done = w.step("n2").decision;
  EXPECT_FALSE(done.sidecar.has_value()) << describe(done);
  const EtcdWrite* t = find_write(done, "reinit done");
  ASSERT_NE(t, nullptr) << describe(done);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.reinit("n2"), rev)));
  w.apply_writes(done);
  EXPECT_EQ(w.etcd.get(w.keys.reinit("n2")), nullptr);
}

TEST(Reinit, ANodeThatRunsAsPrimaryDropsTheRequest) {
  World w = settled();
  w.etcd.put(w.keys.reinit("n1"), "{\"version\":1}");   // written straight into etcd
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  EXPECT_NE(find_write(d, "reinit dropped: this node runs as a primary, and a primary is not re-cloned"), nullptr)
      << describe(d);
}

// ---- remove --------------------------------------------------------------------------------

TEST(PlanRemove, RefusesThePrimaryALiveMemberAndTheSyncSet) {
  World w = settled();
  EXPECT_NE(refusal(plan_remove(w.keys, w.view(), "n1")).find("n1 is the primary"), std::string::npos);
  EXPECT_NE(refusal(plan_remove(w.keys, w.view(), "n2")).find("n2 is running"), std::string::npos);
  StateRecord s = w.state();
  s.sync_standbys = {"n3"};
  w.put_state(s);
  w.kill("n3");
  EXPECT_NE(refusal(plan_remove(w.keys, w.view(), "n3")).find("synchronous set"), std::string::npos);
}

TEST(PlanRemove, DeletesWhatAStoppedMemberLeftAndSaysWhenThereIsNothing) {
  World w = settled();
  w.put_restart_request("n3");
  w.etcd.put(w.keys.reinit("n3"), "{\"version\":1}");
  w.kill("n3");
  ASSERT_EQ(w.view().members.count("n3"), 0u) << "its record went with its lease";
  auto r = plan_remove(w.keys, w.view(), "n3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(w.etcd.apply(r->txn), TxnOutcome::Succeeded);
  EXPECT_EQ(w.etcd.get(w.keys.restart("n3")), nullptr);
  EXPECT_EQ(w.etcd.get(w.keys.reinit("n3")), nullptr);
  EXPECT_NE(refusal(plan_remove(w.keys, w.view(), "n3")).find("nothing to remove"), std::string::npos);
  EXPECT_NE(refusal(plan_remove(w.keys, w.view(), "n9")).find("nothing to remove"), std::string::npos);
}

TEST(PlanRemove, ARecordWithoutALeaseIsDeletedWithACompare) {
  World w = settled();
  MemberRecord m = w.view().members.at("n3").value;
  w.kill("n3");
  m.postgres_running = false;
  w.put_member(m, 0);   // a record kept without a lease (a down member still listed)
  int64_t rev = w.etcd.get(w.keys.member("n3"))->mod_revision;
  auto r = plan_remove(w.keys, w.view(), "n3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_compare(r->txn, kv::Compare::mod_revision_is(w.keys.member("n3"), rev)));
  ASSERT_EQ(w.etcd.apply(r->txn), TxnOutcome::Succeeded);
  EXPECT_EQ(w.etcd.get(w.keys.member("n3")), nullptr);
}

}  // namespace
}  // namespace pg_ha::unit
