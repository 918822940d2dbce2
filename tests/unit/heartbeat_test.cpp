// The member heartbeat (and the primary's optime), and operator restart requests.
#include <gtest/gtest.h>

#include <optional>

#include "core/control.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// Steps `name` once and applies its writes, so its memory knows what it published.
World settled(int n = 3) {
  World w = World::cluster(n);
  for (int i = 1; i <= n; ++i) w.run("n" + std::to_string(i));
  return w;
}

// The member record `d`'s heartbeat puts for `name`; nullopt when it writes none.
std::optional<MemberRecord> heartbeat_record(World& w, const Decision& d, const std::string& name) {
  const EtcdWrite* t = find_write(d, "heartbeat");
  const kv::RequestOp* put = t ? find_put(t->txn, w.keys.member(name)) : nullptr;
  if (!put) return std::nullopt;
  auto m = decode_member(put->value);
  return m.ok() ? std::optional<MemberRecord>(*m) : std::nullopt;
}

TEST(Heartbeat, WrittenWhenMissing) {
  World w = settled();
  w.etcd.del(w.keys.member("n2"));
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  // Only where nobody else has written one meanwhile (another node with our name).
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.member("n2")))) << describe(t->txn);
  const kv::RequestOp* put = find_put(t->txn, w.keys.member("n2"));
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->lease, w.lease_of("n2"));
  auto m = decode_member(put->value);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "n2");
  EXPECT_EQ(m->role, Role::Replica);
  EXPECT_EQ(m->host, "host-n2");
  EXPECT_EQ(m->lease_id, w.lease_of("n2"));
  EXPECT_EQ(m->upstream, "n1");
  EXPECT_EQ(m->flush_lsn, World::kBase);
}

TEST(Heartbeat, WrittenWhenTheRecordIsUnderAnotherLease) {
  World w = settled();
  w.new_lease("n2");  // the old record still exists under the old lease until it expires
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_EQ(find_put(t->txn, w.keys.member("n2"))->lease, w.lease_of("n2"));
}

TEST(Heartbeat, NotRewrittenWhenNothingChanged) {
  World w = settled();
  w.advance(5 * w.config.loop_wait_ms);
  EXPECT_EQ(find_write(w.step("n2").decision, "heartbeat"), nullptr);
}

TEST(Heartbeat, StateChangeIsWrittenAtOnce) {
  World w = settled();
  w.kill("n1");
  w.advance(1);
  Decision d = w.step("n2").decision;  // now "electing"
  ASSERT_NE(find_write(d, "heartbeat"), nullptr) << describe(d);
}

// An identity change goes out at once. FINDINGS.md F24: the write is decided against what etcd
// holds, not against what this node last sent, so one that never landed (compare lost, or no
// answer) is sent again.
TEST(Heartbeat, IdentityChangeIsWrittenAtOnceAndAgainUntilItLands) {
  World w = settled();
  w.node("n2").obs.pending_restart(true);
  w.advance(1);
  auto first = heartbeat_record(w, w.step("n2").decision, "n2");   // stepped, never applied
  ASSERT_TRUE(first) << "pending_restart changed";
  EXPECT_TRUE(first->pending_restart);
  w.advance(1);
  Decision d = w.step("n2").decision;
  auto sent = heartbeat_record(w, d, "n2");
  ASSERT_TRUE(sent) << "etcd still holds pending_restart=false: " << describe(d);
  EXPECT_TRUE(sent->pending_restart);
}

// F24's shape: the key was moved onto the new lease (a ttl re-grant's move txn landed unanswered)
// while its value still names the old one, and the heartbeat that would fix it lost its compare.
// The record is rewritten with the lease it lives on.
TEST(Heartbeat, ARecordNamingAnotherLeaseThanItsOwnIsRewritten) {
  World w = settled();
  MemberRecord old = w.member_record("n2");
  int64_t moved_to = w.new_lease("n2");
  old.lease_id = moved_to - 1;
  ASSERT_NE(old.lease_id, moved_to);
  w.put_member(old, moved_to);
  w.advance(1);
  ASSERT_TRUE(heartbeat_record(w, w.step("n2").decision, "n2"));   // lost
  w.advance(1);
  Decision d = w.step("n2").decision;
  auto sent = heartbeat_record(w, d, "n2");
  ASSERT_TRUE(sent) << describe(d);
  EXPECT_TRUE(has_compare(find_write(d, "heartbeat")->txn, kv::Compare::lease_is(w.keys.member("n2"), moved_to)));
  EXPECT_EQ(sent->lease_id, moved_to);
}

TEST(Heartbeat, PositionsThatDidNotLandAreSentAgainAfterALoop) {
  World w = settled();
  w.node("n2").obs.flush(World::kBase + 0x10);
  w.advance(w.config.loop_wait_ms);
  ASSERT_TRUE(heartbeat_record(w, w.step("n2").decision, "n2"));   // lost
  w.advance(w.config.loop_wait_ms / 2);
  EXPECT_FALSE(heartbeat_record(w, w.step("n2").decision, "n2")) << "positions wait for the interval";
  w.advance(w.config.loop_wait_ms / 2);
  Decision d = w.step("n2").decision;
  auto sent = heartbeat_record(w, d, "n2");
  ASSERT_TRUE(sent) << "etcd still holds the old position: " << describe(d);
  EXPECT_EQ(sent->flush_lsn, World::kBase + 0x10);
}

TEST(Heartbeat, PositionOnlyChangesAtMostOncePerLoop) {
  World w = settled();
  w.node("n2").obs.flush(World::kBase + 0x10);
  w.advance(1);
  EXPECT_EQ(find_write(w.run("n2").decision, "heartbeat"), nullptr) << "position only: waits";
  w.node("n2").obs.flush(World::kBase + 0x20);
  w.advance(w.config.loop_wait_ms - 2);
  EXPECT_EQ(find_write(w.run("n2").decision, "heartbeat"), nullptr);
  w.advance(1);  // a full loop since the last write
  Decision d = w.run("n2").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_EQ(decode_member(find_put(t->txn, w.keys.member("n2"))->value)->flush_lsn, World::kBase + 0x20);
  w.node("n2").obs.flush(World::kBase + 0x30);
  w.advance(w.config.loop_wait_ms / 2);
  EXPECT_EQ(find_write(w.run("n2").decision, "heartbeat"), nullptr) << "the interval restarts at each write";
}

TEST(Heartbeat, PrimaryCarriesTheOptime) {
  World w = settled();
  w.node("n1").obs.flush(World::kBase + 0x500);
  w.advance(w.config.loop_wait_ms);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  const kv::RequestOp* put = find_put(t->txn, w.keys.optime());
  ASSERT_NE(put, nullptr) << describe(d);
  EXPECT_EQ(put->lease, 0) << "the optime outlives the primary, for the lag bound";
  auto o = decode_optime(put->value);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->lsn, World::kBase + 0x500);
  EXPECT_EQ(o->timeline, 1u);
}

TEST(Heartbeat, ReplicaAndFencedPrimaryDoNotWriteTheOptime) {
  World w = settled();
  w.node("n2").obs.flush(World::kBase + 0x500);
  w.isolate("n1");
  w.node("n1").obs.flush(World::kBase + 0x600);
  w.advance(w.config.fence_after_ms);
  Decision replica = w.step("n2").decision;
  ASSERT_NE(find_write(replica, "heartbeat"), nullptr);
  EXPECT_EQ(find_put(find_write(replica, "heartbeat")->txn, w.keys.optime()), nullptr);
  Decision fenced = w.step("n1").decision;
  ASSERT_TRUE(fenced.fenced);
  const EtcdWrite* t = find_write(fenced, "heartbeat");
  ASSERT_NE(t, nullptr) << "state changed to fenced: " << describe(fenced);
  EXPECT_EQ(find_put(t->txn, w.keys.optime()), nullptr);
}

TEST(Heartbeat, NoLeaseNoHeartbeat) {
  World w = World::cluster(2);
  w.node("n2").obs.no_lease();
  EXPECT_EQ(find_write(w.step("n2").decision, "heartbeat"), nullptr);
}

// ---- restart requests -------------------------------------------------------------------------

TEST(Restart, RequestBecomesASidecarRestartWithARevisionId) {
  World w = settled();
  w.put_restart_request("n2");
  int64_t rev = w.etcd.get(w.keys.restart("n2"))->mod_revision;
  Decision d = w.step("n2").decision;
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Restart);
  EXPECT_EQ(d.sidecar->id, "restart-" + std::to_string(rev));
  EXPECT_EQ(find_write(d, "restart done"), nullptr);
  EXPECT_FALSE(w.step("n3").decision.sidecar.has_value()) << "only the named node restarts";
  EXPECT_EQ(w.step("n2").decision.sidecar->id, d.sidecar->id) << "stable while pending";
}

TEST(Restart, DoneRequestIsDeletedWithACompare) {
  World w = settled();
  w.put_restart_request("n2");
  int64_t rev = w.etcd.get(w.keys.restart("n2"))->mod_revision;
  w.node("n2").obs.sidecar_done("restart-" + std::to_string(rev));
  Decision d = w.step("n2").decision;
  EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
  const EtcdWrite* t = find_write(d, "restart done");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.restart("n2"), rev)));
  EXPECT_NE(find_op(t->txn, kv::RequestOp::Kind::DeleteRange, w.keys.restart("n2")), nullptr);
  w.apply_writes(d);
  EXPECT_EQ(w.etcd.get(w.keys.restart("n2")), nullptr);
}

TEST(Restart, ANewerRequestIsNotDeletedByAnOldResult) {
  World w = settled();
  w.put_restart_request("n2");
  int64_t first = w.etcd.get(w.keys.restart("n2"))->mod_revision;
  w.node("n2").obs.sidecar_done("restart-" + std::to_string(first));
  Decision d = w.step("n2").decision;
  w.put_restart_request("n2");  // asked again before the delete landed
  w.apply_writes(d);
  ASSERT_NE(w.etcd.get(w.keys.restart("n2")), nullptr) << "the compare protects the new request";
  Decision again = w.step("n2").decision;
  ASSERT_TRUE(again.sidecar.has_value());
  EXPECT_NE(again.sidecar->id, "restart-" + std::to_string(first));
}

TEST(Restart, DemoteTakesPrecedenceOverRestart) {
  World w = settled();
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  w.put_state(s);
  w.put_leader("n2", 2);
  w.put_restart_request("n1");
  Decision d = w.step("n1").decision;
  ASSERT_TRUE(d.sidecar.has_value());
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Demote);
}

TEST(PlanRestart, UnknownPendingAndAccepted) {
  World w = settled();
  EXPECT_NE(plan_restart(w.keys, w.view(), "n9").error().message.find("no member \"n9\" is registered"), std::string::npos);
  auto r = plan_restart(w.keys, w.view(), "n2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_compare(r->txn, kv::Compare::absent(w.keys.restart("n2"))));
  ASSERT_EQ(w.etcd.apply(r->txn), TxnOutcome::Succeeded);
  EXPECT_TRUE(w.view().problems.empty()) << w.view().problems.front();
  EXPECT_NE(plan_restart(w.keys, w.view(), "n2").error().message.find("already pending"), std::string::npos);
}

// ---- pause and config (the other control requests) ------------------------------------------

TEST(PlanPause, PauseAndResumeWithCompares) {
  World w = settled();
  EtcdView v = w.view();
  auto p = plan_pause(w.keys, v, true);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(has_compare(p->txn, kv::Compare::mod_revision_is(w.keys.state(), v.state->mod_revision)));
  w.etcd.apply(p->txn);
  EXPECT_TRUE(w.state().paused);
  EXPECT_FALSE(plan_pause(w.keys, w.view(), true).ok()) << "already paused";
  auto r = plan_pause(w.keys, w.view(), false);
  ASSERT_TRUE(r.ok());
  w.etcd.apply(r->txn);
  EXPECT_FALSE(w.state().paused);
}

TEST(PlanConfigPatch, ValidatesTheMergedResult) {
  World w = settled();
  auto ok = plan_config_patch(w.keys, w.view(), R"({"ttl":20,"synchronous_mode":"on"})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(has_compare(ok->txn, kv::Compare::absent(w.keys.config())));
  ASSERT_EQ(w.etcd.apply(ok->txn), TxnOutcome::Succeeded);
  EtcdView v = w.view();
  ASSERT_TRUE(v.config.has_value());
  EXPECT_EQ(v.config->value.ttl_s, 20);
  EXPECT_EQ(v.config->value.synchronous_mode, SyncMode::On);

  auto bad = plan_config_patch(w.keys, v, R"({"fence_after_ms":500})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("fence after a missed keep-alive"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(plan_config_patch(w.keys, v, R"({"tll":20})").ok());
  EXPECT_FALSE(plan_config_patch(w.keys, v, "[1]").ok());

  auto reset = plan_config_patch(w.keys, v, R"({"ttl":null})");
  ASSERT_TRUE(reset.ok()) << reset.error().message;
  EXPECT_TRUE(has_compare(reset->txn, kv::Compare::mod_revision_is(w.keys.config(), v.config->mod_revision)));
  w.etcd.apply(reset->txn);
  EXPECT_EQ(w.view().config->value.ttl_s, ClusterConfig{}.ttl_s);
}

}  // namespace
}  // namespace pg_ha::unit
