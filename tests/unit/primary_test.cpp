// A node whose PostgreSQL accepts writes: bootstrap, lead, fence early, unfence, reclaim, demote.
#include <gtest/gtest.h>

#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

// ---- bootstrap ----------------------------------------------------------------------------------

World fresh_node(const std::string& initialized_by, const std::string& sysid) {
  World w;
  w.add_node("n1").obs.primary().timeline(1).flush(0x1000028).sysid(World::kSysId);
  w.put_initialize(initialized_by, sysid);
  return w;
}

TEST(Bootstrap, InitializeWinnerWithMatchingSystemIdWritesTermOne) {
  World w = fresh_node("n1", std::to_string(World::kSysId));
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << "no write before leadership is committed";
  EXPECT_EQ(d.write_deadline_ms, 0);
  const EtcdWrite* t = find_write(d, "take leadership for term 1");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.state())));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.leader())));
  const kv::RequestOp* leader = find_put(t->txn, w.keys.leader());
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->lease, w.lease_of("n1"));
  auto l = decode_leader(leader->value);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->name, "n1");
  EXPECT_EQ(l->term, 1);
  const kv::RequestOp* state = find_put(t->txn, w.keys.state());
  ASSERT_NE(state, nullptr);
  auto s = decode_state(state->value);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->term, 1);
  EXPECT_EQ(s->primary, "n1");
  EXPECT_EQ(s->timeline, 1u);
  ASSERT_NE(find_put(t->txn, w.keys.history(1)), nullptr);

  w.apply_writes(d);
  Decision lead = w.step("n1").decision;
  EXPECT_FALSE(lead.fenced) << describe(lead);
  EXPECT_EQ(lead.state, NodeState::Primary);
}

TEST(Bootstrap, TermOneTxnLosesToAnExistingState) {
  World w = fresh_node("n1", std::to_string(World::kSysId));
  Decision d = w.step("n1").decision;
  w.put_state(StateRecord{1, "n9", 1, false, false, 0, {}, std::nullopt, "", {}});  // someone was faster
  std::vector<TxnOutcome> out = w.apply_writes(d);
  EXPECT_EQ(out.front(), TxnOutcome::Failed);
  EXPECT_EQ(w.etcd.get(w.keys.leader()), nullptr);
}

TEST(Bootstrap, WrongSystemIdentifierWritesNothingAndSaysWhy) {
  World w = fresh_node("n1", "6999999999999999999");
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(find_write(d, "leadership"), nullptr) << describe(d);
  for (const EtcdWrite& e : d.writes) EXPECT_EQ(e.what, "heartbeat");
  EXPECT_NE(d.reason.find("system identifier"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("6999999999999999999"), std::string::npos) << d.reason;
}

TEST(Bootstrap, SystemIdentifierNotYetRecordedWritesNothing) {
  World w = fresh_node("n1", "");
  Decision d = w.step("n1").decision;
  EXPECT_EQ(find_write(d, "leadership"), nullptr) << describe(d);
  EXPECT_TRUE(d.fenced);
}

TEST(Bootstrap, LoserOfTheInitializeRaceWritesNothing) {
  World w = fresh_node("n2", std::to_string(World::kSysId));
  Decision d = w.step("n1").decision;
  EXPECT_EQ(find_write(d, "leadership"), nullptr) << describe(d);
  EXPECT_TRUE(d.fenced);
  EXPECT_NE(d.reason.find("n2"), std::string::npos) << d.reason;
}

TEST(Bootstrap, NoLeaseNoWrite) {
  World w = fresh_node("n1", std::to_string(World::kSysId));
  w.node("n1").obs.no_lease();
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.writes.empty()) << describe(d);
}

// ---- leading -------------------------------------------------------------------------------------

TEST(Lead, UnfencedUntilSentPlusWindowWhileKeepAliveIsFresh) {
  World w = World::cluster(3);
  TimeMs sent = w.now;
  w.advance(0);
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.fenced) << describe(d);
  EXPECT_TRUE(d.fence_reason.empty());
  EXPECT_EQ(d.state, NodeState::Primary);
  EXPECT_EQ(d.write_deadline_ms, write_deadline_after_keepalive(w.config, sent, w.config.ttl_s));
  EXPECT_EQ(d.write_deadline_ms, sent + w.config.fence_after_ms);
  EXPECT_LE(d.wake_at_ms, d.write_deadline_ms);
  EXPECT_FALSE(d.promote);
  EXPECT_FALSE(d.sidecar.has_value());
  EXPECT_FALSE(d.follow.has_value());
}

TEST(Lead, DeadlineCountsFromTheKeepAliveSendTimeNotFromNow) {
  World w = World::cluster(2);
  TimeMs sent = w.now - 1500;
  w.node("n1").obs.keepalive(sent);  // the last good keep-alive went out 1.5 s ago
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.fenced);
  EXPECT_EQ(d.write_deadline_ms, sent + w.config.fence_after_ms);
}

TEST(Lead, DeadlineNeverPassesTheLeaseSafeWindow) {
  ClusterConfig c;
  c.fence_margin_ms = 1000;
  c.fence_after_ms = 9500;  // longer than the lease allows: 10000 * 0.99 / 1.01 - 1000 = 8801
  ASSERT_TRUE(validate_cluster_config(c).ok());
  World w = World::cluster(2, c);
  Decision d = w.step("n1").decision;
  EXPECT_EQ(d.write_deadline_ms, w.now + 8801);
}

// issue 12: the config says ttl 60 / fence_after 30 s, but the lease this primary holds was granted
// with ttl 10 before the change (or adopted from a previous worker): etcd expires it 10 s after the
// keep-alive, so the write deadline must end before that, not 30 s later.
TEST(Lead, DeadlineFollowsTheGrantedTtlAfterTheConfigChanged) {
  ClusterConfig plain;
  plain.fast_takeover = false;   // with it, the silence `leader` records bounds the window too
  plain.fence_margin_ms = 1000;
  World w = World::cluster(2, plain);
  ClusterConfig changed = w.config;
  changed.ttl_s = 60;
  changed.fence_after_ms = 30000;
  ASSERT_TRUE(validate_cluster_config(changed).ok());
  w.config = changed;   // the node's lease still has the ttl it was granted with (10 s)
  TimeMs sent = w.now;
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, sent + 8801);   // 10000 * 0.99 / 1.01 - 1000
  w.advance(9000);                               // past it, with no keep-alive since
  w.node("n1").obs.keepalive(sent);
  d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, 0);
}

TEST(Lead, NoWriteDeadlineWithoutAGrantedTtl) {
  World w = World::cluster(2);
  w.node("n1").obs.get().lease.granted_ttl_s = 0;
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, 0);
}

TEST(Lead, FencesEarlyOnceTheDeadlinePassesWithoutKeepAlive) {
  World w = World::cluster(3);
  TimeMs sent = w.now;
  w.isolate("n1");  // keep-alives fail from now on; the lease is still alive in etcd
  w.advance(w.config.fence_after_ms - 1);
  Decision before = w.step("n1").decision;
  EXPECT_FALSE(before.fenced) << describe(before);
  EXPECT_EQ(before.write_deadline_ms, sent + w.config.fence_after_ms);

  w.advance(1);  // now == deadline
  Decision at = w.step("n1").decision;
  EXPECT_TRUE(at.fenced) << describe(at);
  EXPECT_EQ(at.write_deadline_ms, 0);
  EXPECT_FALSE(at.fence_reason.empty());
  EXPECT_EQ(at.state, NodeState::Fenced);
  EXPECT_FALSE(at.sidecar.has_value()) << "a fenced leader is not demoted";
  EXPECT_EQ(find_write(at, "leadership"), nullptr);
}

TEST(Lead, UnfencesWhenAKeepAliveSucceedsWhileStillHoldingLeader) {
  ClusterConfig plain;
  plain.fast_takeover = false;   // with it, the gate is sticky (fast_takeover_test.cpp)
  World w = World::cluster(3, plain);
  w.isolate("n1");
  w.advance(5000);
  ASSERT_TRUE(w.step("n1").decision.fenced);
  w.reconnect("n1");
  w.advance(10);  // keep-alive succeeds, sent now
  Decision d = w.step("n1").decision;
  EXPECT_FALSE(d.fenced) << describe(d);
  EXPECT_EQ(d.write_deadline_ms, w.now + w.config.fence_after_ms);
  EXPECT_FALSE(d.promote);
  EXPECT_FALSE(d.sidecar.has_value()) << "no demote, no restart";
  EXPECT_FALSE(d.follow.has_value());
  EXPECT_EQ(find_write(d, "leadership"), nullptr);
}

TEST(Lead, StoppedPostgresIsFenced) {
  World w = World::cluster(2);
  w.node("n1").obs.stopped();
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(d.write_deadline_ms, 0);
  EXPECT_EQ(d.state, NodeState::Stopped);
}

TEST(Lead, RecordsItsTimelineInState) {
  World w = World::cluster(2);
  w.node("n1").obs.timeline(2);
  int64_t rev = w.view().state->mod_revision;
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "record timeline 2");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), rev)));
  w.apply_writes(d);
  EXPECT_EQ(w.state().timeline, 2u);
  EXPECT_EQ(find_write(w.step("n1").decision, "record timeline"), nullptr);
}

TEST(Lead, RemovesFinishedElectionReports) {
  World w = World::cluster(3);
  w.put_report(2, "n2", 1, World::kBase);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "election reports");
  ASSERT_NE(t, nullptr) << describe(d);
  w.apply_writes(d);
  EXPECT_TRUE(w.etcd.keys_with_prefix(w.keys.election_prefix()).empty());
}

TEST(Lead, LeaderKeyUnderAnotherLeaseIsNotLeading) {
  World w = World::cluster(2);
  w.put_leader("n1", 1, 999);  // an old lease of ours (worker restarted, lease not adopted)
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << describe(d);
  EXPECT_FALSE(d.sidecar.has_value()) << "we are still the lineage's primary: wait, do not demote";
  EXPECT_EQ(d.state, NodeState::Fenced) << "not demoting: issue 17's state table";
  EXPECT_EQ(find_write(d, "leadership"), nullptr);
}

// ---- reclaim -------------------------------------------------------------------------------------

TEST(Reclaim, LostLeaderButStateNamesUsReclaimsForTheSameTerm) {
  World w = World::cluster(3);
  w.expire_lease("n1");  // etcd was unreachable long enough: leader and member key gone
  int64_t lease = w.new_lease("n1");
  int64_t state_rev = w.view().state->mod_revision;
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced) << "fenced while reclaiming";
  EXPECT_EQ(d.write_deadline_ms, 0);
  const EtcdWrite* t = find_write(d, "reclaim leadership");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::absent(w.keys.leader())));
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.state(), state_rev)));
  const kv::RequestOp* put = find_put(t->txn, w.keys.leader());
  ASSERT_NE(put, nullptr);
  EXPECT_EQ(put->lease, lease);
  EXPECT_EQ(decode_leader(put->value)->term, 1) << "same term: nobody else was promoted";
  EXPECT_EQ(find_put(t->txn, w.keys.state()), nullptr) << "state is not changed";

  w.apply_writes(d);
  Decision after = w.step("n1").decision;
  EXPECT_FALSE(after.fenced) << describe(after);
  EXPECT_FALSE(after.sidecar.has_value()) << "no restart, no timeline change";
}

TEST(Reclaim, FailsIfAnElectionChangedStateFirst) {
  World w = World::cluster(3);
  w.expire_lease("n1");
  w.new_lease("n1");
  Decision d = w.step("n1").decision;
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  w.put_state(s);
  EXPECT_EQ(w.apply_writes(d).front(), TxnOutcome::Failed);
}

TEST(Reclaim, WithoutALeaseNothingIsWritten) {
  World w = World::cluster(3);
  w.expire_lease("n1");
  w.node("n1").obs.no_lease();
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_TRUE(d.writes.empty()) << describe(d);
}

// ---- demote --------------------------------------------------------------------------------------

TEST(Demote, AnotherPrimaryMeansFencedAndAStableDemoteRequest) {
  World w = World::cluster(3);
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n2";
  w.put_state(s);
  w.put_leader("n2", 2);
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(d.write_deadline_ms, 0);
  EXPECT_FALSE(d.promote);
  ASSERT_TRUE(d.sidecar.has_value()) << describe(d);
  EXPECT_EQ(d.sidecar->kind, SidecarRequest::Kind::Demote);
  EXPECT_EQ(d.sidecar->id, "demote-2-n2");
  EXPECT_EQ(d.sidecar->primary, "n2");
  EXPECT_EQ(d.sidecar->primary_host, "host-n2");
  EXPECT_EQ(d.sidecar->primary_port, 5432);
  EXPECT_EQ(find_write(d, "leadership"), nullptr);

  w.advance(1000);
  Decision again = w.step("n1").decision;
  ASSERT_TRUE(again.sidecar.has_value());
  EXPECT_EQ(again.sidecar->id, d.sidecar->id) << "same intent, same id: re-sending is idempotent";
}

TEST(Demote, NewPrimaryNamedInStateBeforeItsLeaderKeyIsSeen) {
  World w = World::cluster(3);
  StateRecord s = w.state();
  s.term = 2;
  s.primary = "n3";
  w.put_state(s);
  w.expire_lease("n1");
  w.new_lease("n1");
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(find_write(d, "reclaim"), nullptr) << "state names someone else: no reclaim";
  ASSERT_TRUE(d.sidecar.has_value());
  EXPECT_EQ(d.sidecar->id, "demote-2-n3");
}

}  // namespace
}  // namespace pg_ha::unit
