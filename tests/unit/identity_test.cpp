// Member identity (issue 12): a node never writes, adopts or acts under a member record of another
// identity; a node that restarts with its own identity resumes as before.
#include <gtest/gtest.h>

#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

World settled(int n = 3) {
  World w = World::cluster(n);
  for (int i = 1; i <= n; ++i) w.run("n" + std::to_string(i));
  return w;
}

// Another server, started with the name `name`, wrote its record under its own lease.
void impostor_takes(World& w, const std::string& name) {
  MemberRecord r = w.member_record(name);
  r.member_id = "id-impostor";
  r.host = "host-impostor";
  r.lease_id = 999;
  w.etcd.grant_lease(999);
  w.put_member(r, 999);
}

TEST(Identity, HeartbeatCarriesTheIdentityAndSystemIdentifier) {
  World w = World::cluster(3);
  w.etcd.del(w.keys.member("n2"));
  w.node("n2").obs.sysid(World::kSysId);
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  auto m = decode_member(find_put(t->txn, w.keys.member("n2"))->value);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->member_id, "id-n2");
  EXPECT_EQ(m->system_identifier, std::to_string(World::kSysId));
}

TEST(Identity, OwnRecordIsKeptAliveUnderACompareOnItsLease) {
  World w = settled();
  w.node("n2").obs.pending_restart(true);
  w.advance(1);
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::lease_is(w.keys.member("n2"), w.lease_of("n2")))) << describe(t->txn);
}

TEST(Identity, ARecordOfAnotherIdentityIsNeverWrittenOver) {
  World w = settled();
  impostor_takes(w, "n2");
  w.advance(5 * w.config.loop_wait_ms);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "heartbeat"), nullptr) << describe(d);
  EXPECT_TRUE(d.writes.empty()) << describe(d);
  EXPECT_EQ(d.state, NodeState::Conflict);
  EXPECT_TRUE(d.fenced);
  EXPECT_NE(d.reason.find("id-impostor"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("id-n2"), std::string::npos) << d.reason;
}

TEST(Identity, ARaceLostToAnotherIdentityFailsItsCompare) {
  // Both saw the key absent; the other node's heartbeat landed first: ours must not overwrite it.
  World w = settled();
  w.etcd.del(w.keys.member("n2"));
  Decision d = w.step("n2").decision;
  impostor_takes(w, "n2");
  w.apply_writes(d);
  const kv::KeyValue* kv = w.etcd.get(w.keys.member("n2"));
  ASSERT_NE(kv, nullptr);
  auto m = decode_member(kv->value);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->member_id, "id-impostor");
}

TEST(Identity, APrimaryWhoseNameIsTakenStaysFencedAndGivesUpLeader) {
  // Its lease, kept alive, would otherwise keep `leader` and stop every election (FINDINGS F9).
  World w = settled();
  impostor_takes(w, "n1");
  Decision d = w.step("n1").decision;
  EXPECT_TRUE(d.fenced);
  EXPECT_EQ(d.write_deadline_ms, 0);
  EXPECT_EQ(d.state, NodeState::Conflict);
  ASSERT_EQ(d.writes.size(), 1u) << describe(d);
  const kv::Txn& t = d.writes.front().txn;
  EXPECT_TRUE(has_compare(t, kv::Compare::lease_is(w.keys.leader(), w.lease_of("n1")))) << describe(t);
  ASSERT_EQ(t.success.size(), 1u) << describe(t);
  EXPECT_EQ(t.success.front().kind, kv::RequestOp::Kind::DeleteRange);
  EXPECT_EQ(t.success.front().key, w.keys.leader());
  EXPECT_EQ(find_put(t, w.keys.member("n1")), nullptr) << "nothing is written under the name";
  w.apply_writes(d);
  EXPECT_FALSE(w.view().leader.has_value());
}

TEST(Identity, AReplicaWhoseNameIsTakenWithdrawsItsReport) {
  World w = settled();
  w.kill("n1");
  w.run("n2");   // reports for term 2 under its lease
  ASSERT_TRUE(w.view().reports.count(2) && w.view().reports.at(2).count("n2"));
  impostor_takes(w, "n2");
  Decision d = w.step("n2").decision;
  EXPECT_EQ(d.state, NodeState::Conflict);
  const EtcdWrite* t = find_write(d, "give up");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::lease_is(w.keys.election_report(2, "n2"), w.lease_of("n2"))));
  w.apply_writes(d);
  EXPECT_FALSE(w.view().reports.count(2) && w.view().reports.at(2).count("n2"));
}

TEST(Identity, ATermWonByAnotherNodeOfOurNameIsNotReclaimed) {
  // A replacement with our name and another identity won the term while we were away, and is
  // gone now: its WAL is not ours, so the term is not ours to take back (FINDINGS F8).
  World w = World::cluster(3);
  w.expire_lease("n1");
  w.new_lease("n1");
  StateRecord s = w.state();
  s.primary_id = "id-replacement";
  w.put_state(s);
  Decision d = w.step("n1").decision;
  EXPECT_EQ(find_write(d, "reclaim"), nullptr) << describe(d);
  EXPECT_TRUE(d.fenced);
  EXPECT_NE(d.reason.find("id-replacement"), std::string::npos) << d.reason;
}

TEST(Identity, ATermOfOurOwnIdentityIsReclaimed) {
  World w = World::cluster(3);
  w.expire_lease("n1");
  w.new_lease("n1");
  StateRecord s = w.state();
  s.primary_id = "id-n1";
  w.put_state(s);
  Decision d = w.step("n1").decision;
  EXPECT_NE(find_write(d, "reclaim leadership"), nullptr) << describe(d);
}

TEST(Identity, ANewTermRecordsTheWinnersIdentity) {
  World w = settled();
  w.kill("n1");
  w.run("n2");
  w.run("n3");
  w.advance(w.config.election_wait_ms + 1);
  for (const char* name : {"n2", "n3"}) {
    Decision d = w.step(name).decision;
    const EtcdWrite* t = find_write(d, "take leadership");
    if (!t) continue;
    auto st = decode_state(find_put(t->txn, w.keys.state())->value);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->primary, name);
    EXPECT_EQ(st->primary_id, std::string("id-") + name);
    return;
  }
  FAIL() << "nobody took leadership";
}

TEST(Identity, AReplicaWhoseNameIsTakenNeverReportsOrPromotes) {
  World w = settled();
  impostor_takes(w, "n2");
  w.kill("n1");
  w.advance(w.config.election_wait_ms + 1);
  Decision d = w.step("n2").decision;
  EXPECT_EQ(find_write(d, "report"), nullptr) << describe(d);
  EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
  EXPECT_FALSE(d.promote);
}

TEST(Identity, OwnRecordUnderAnEarlierLeaseIsResumed) {
  // The worker restarted and got a new lease: the record of the same identity is ours.
  World w = settled();
  int64_t old_rev = w.view().members.at("n2").mod_revision;
  w.new_lease("n2");
  Decision d = w.step("n2").decision;
  EXPECT_NE(d.state, NodeState::Conflict);
  const EtcdWrite* t = find_write(d, "heartbeat");
  ASSERT_NE(t, nullptr) << describe(d);
  EXPECT_TRUE(has_compare(t->txn, kv::Compare::mod_revision_is(w.keys.member("n2"), old_rev))) << describe(t->txn);
}

TEST(Identity, ARecordWithoutIdentityIsTakenOverByItsName) {
  // Written before identities existed (an upgrade): its name's owner takes it over.
  World w = settled();
  MemberRecord r = w.member_record("n2");
  r.member_id.clear();
  w.put_member(r, w.lease_of("n2"));
  w.new_lease("n2");
  Decision d = w.step("n2").decision;
  EXPECT_NE(d.state, NodeState::Conflict);
  EXPECT_NE(find_write(d, "heartbeat"), nullptr) << describe(d);
}

}  // namespace
}  // namespace pg_ha::unit
