// The recorded synchronous set records identities, not only names (FINDINGS F12): a name can pass
// to another node, and only the node recorded under it speaks for it in an election; a replica
// never follows or rewinds to another node that holds the term primary's name.
#include <gtest/gtest.h>

#include "core/candidates.hpp"
#include "core/sync_names.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

ClusterConfig sync_on() {
  ClusterConfig c;
  c.synchronous_mode = SyncMode::On;
  return c;
}

Versioned<ElectionReport> report(const std::string& name, const std::string& id, Lsn lsn) {
  ElectionReport r;
  r.name = name;
  r.term = 2;
  r.timeline = 1;
  r.lsn = lsn;
  r.member_id = id;
  return Versioned<ElectionReport>{r, 1, 1, 1};
}

// Term 1 is over; the recorded set is {n2, n3} with quorum 1, so 2 reports from it are needed.
EtcdView election_view(std::map<std::string, std::string> sync_ids) {
  EtcdView v;
  StateRecord s;
  s.term = 1;
  s.primary = "n1";
  s.timeline = 1;
  s.sync_active = true;
  s.sync_quorum = 1;
  s.sync_standbys = {"n2", "n3"};
  s.sync_ids = std::move(sync_ids);
  v.state = Versioned<StateRecord>{s, 1, 1, 0};
  return v;
}

TEST(SyncIdentity, ARecordedSetRecordsEachMembersIdentity) {
  World w = World::cluster(3, sync_on());
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "record synchronous set");
  ASSERT_NE(t, nullptr) << describe(d);
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sync_ids, (std::map<std::string, std::string>{{"n1", "id-n1"}, {"n2", "id-n2"}}));
}

TEST(SyncIdentity, AReportCarriesItsReportersIdentity) {
  World w = World::cluster(3);
  w.kill("n1");
  Decision d = w.step("n2").decision;
  const EtcdWrite* t = find_write(d, "report position for term 2");
  ASSERT_NE(t, nullptr) << describe(d);
  auto r = decode_report(find_put(t->txn, w.keys.election_report(2, "n2"))->value);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->member_id, "id-n2");
}

TEST(SyncIdentity, AReportUnderARecordedNameFromAnotherIdentityDoesNotCount) {
  EtcdView v = election_view({{"n2", "id-n2"}, {"n3", "id-n3"}});
  // The replacement under n2 is ahead on the only line it knows; the recorded n2 cannot report.
  v.reports[2]["n2"] = report("n2", "id-replacement", 900);
  v.reports[2]["n3"] = report("n3", "id-n3", 500);
  ElectionOutcome out = decide_election(ClusterConfig{}, v, 2, true);
  EXPECT_FALSE(out.winner.has_value()) << "won by " << out.winner.value_or("") << ": " << out.reason;
  EXPECT_NE(out.reason.find("more report"), std::string::npos) << out.reason;

  v.reports[2]["n2"] = report("n2", "id-n2", 600);   // the recorded n2 is back
  out = decide_election(ClusterConfig{}, v, 2, true);
  EXPECT_EQ(out.winner.value_or(""), "n2") << out.reason;
}

TEST(SyncIdentity, ARecordWithoutIdentitiesCountsReportsByName) {
  EtcdView v = election_view({});
  v.reports[2]["n2"] = report("n2", "id-whoever", 600);
  v.reports[2]["n3"] = report("n3", "", 500);
  ElectionOutcome out = decide_election(ClusterConfig{}, v, 2, true);
  EXPECT_EQ(out.winner.value_or(""), "n2") << out.reason;
}

TEST(SyncIdentity, TheIdentitiesSurviveTheRoundTrip) {
  StateRecord s;
  s.sync_active = true;
  s.sync_standbys = {"n2"};
  s.sync_ids = {{"n2", "id-n2"}};
  auto back = decode_state(encode(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->sync_ids, s.sync_ids);
  auto old = decode_state(R"({"version":1,"term":2,"primary":"n1","sync_active":true,"sync_quorum":1,"sync_standbys":["n2"]})");
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_TRUE(old->sync_ids.empty());
  EXPECT_FALSE(decode_state(R"({"version":1,"sync_ids":{"bad name!":"x"}})").ok());
}

TEST(SyncIdentity, AReplicaNeverFollowsAnotherNodeUnderThePrimarysName) {
  // n1's name passed to another server (n1 crashed; the replacement is a clone of some replica):
  // its WAL need not hold what n1 acknowledged, so n2 neither streams from it nor rewinds to it.
  World w = World::cluster(3, sync_on());
  StateRecord s = w.state();
  s.primary_id = "id-n1";
  w.put_state(s);
  MemberRecord r = w.member_record("n1");
  r.member_id = "id-replacement";
  r.host = "host-replacement";
  r.flush_lsn = World::kBase + 1000;   // ahead: a follower that cannot stream would rewind to it
  w.put_member(r, w.lease_of("n1"));
  for (int i = 0; i < 3; ++i) {
    Decision d = w.step("n2").decision;
    EXPECT_FALSE(d.follow.has_value()) << describe(d);
    EXPECT_FALSE(d.sidecar.has_value()) << describe(d);
    EXPECT_NE(d.reason.find("id-replacement"), std::string::npos) << d.reason;
    w.advance(10000);
  }
}

// F16: the recorded set is {n2 under id-n2}; a second node took the name n2 (the original's record
// expired) and streams from the primary as "n2@id-secon". PostgreSQL counts acknowledgements by
// application_name: whatever the primary names, the second node must never be among the names a
// commit may wait for, or it would acknowledge for the recorded n2 (which lacks those commits).
void expect_second_never_named(World& w, int steps) {
  const std::string second = standby_application_name("n2", "id-second");
  for (int i = 0; i < steps; ++i) {
    Decision d = w.run("n1").decision;
    std::string ssn = w.node("n1").obs.get().local.synchronous_standby_names;
    SyncNames named;
    ASSERT_TRUE(parse_sync_names(ssn, &named)) << ssn;
    EXPECT_EQ(std::count(named.names.begin(), named.names.end(), second), 0)
        << "step " << i << ": '" << ssn << "', record " << encode(w.state()) << "\n" << describe(d);
    w.advance(100);
  }
}

// The recorded set is {n2 under id-n2}; then a second node takes the name n2 and streams.
void record_n2_then_let_a_second_node_take_its_name(World& w) {
  w.put_sync_set({"n2"}, 1);
  MemberRecord r = w.member_record("n2");
  r.member_id = "id-second";
  r.host = "host-second";
  w.put_member(r, w.lease_of("n2"));
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).no_standbys().standby("n2", World::kBase, true, "id-second");
}

TEST(SyncIdentity, ASecondNodeUnderARecordedNameNeverAcknowledgesForIt) {
  for (bool strict : {false, true}) {
    ClusterConfig c = sync_on();
    c.synchronous_mode_strict = strict;
    World w = World::cluster(2, c);
    record_n2_then_let_a_second_node_take_its_name(w);
    SCOPED_TRACE(strict ? "strict" : "not strict");
    expect_second_never_named(w, 8);
  }
}

TEST(SyncIdentity, ASecondNodeUnderARecordedNameJoinsUnderItsOwnIdentityOnceTheRecordLetsItGo) {
  World w = World::cluster(3, sync_on());
  record_n2_then_let_a_second_node_take_its_name(w);
  w.node("n1").obs.standby("n3", World::kBase);
  expect_second_never_named(w, 8);
  StateRecord now = w.state();
  EXPECT_EQ(now.sync_standbys, std::vector<std::string>{"n3"}) << encode(now);
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(1, {"n3"}));
}

TEST(SyncIdentity, ARecordWithoutIdentitiesIsRecordedAgainBeforeItsStandbyIsNamed) {
  World w = World::cluster(2, sync_on());
  StateRecord s = w.state();
  s.sync_active = true;
  s.sync_quorum = 1;
  s.sync_standbys = {"n2"};   // written before records had identities
  w.put_state(s);
  w.node("n1").obs.ssn("ANY 1 (\"n2\")");
  Decision d = w.run("n1").decision;
  EXPECT_NE(find_write(d, "record synchronous set"), nullptr) << describe(d);
  EXPECT_EQ(w.state().sync_ids, (std::map<std::string, std::string>{{"n2", "id-n2"}}));
  for (int i = 0; i < 3; ++i) w.run("n1");
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(1, {"n2"}));
}

TEST(SyncIdentity, ASwitchoverWaitsForTheCandidatesOwnStream) {
  World w = World::cluster(3);
  MemberRecord r = w.member_record("n2");
  r.member_id = "id-second";   // n2 is held by id-second; a stream as n2@id-other is not the candidate's
  w.put_member(r, w.lease_of("n2"));
  w.node("n1").obs.no_standbys().standby("n2", World::kBase, true, "id-other");
  StateRecord s = w.state();
  s.request = SwitchoverRequest{};
  s.request->to = "n2";
  w.put_state(s);
  Decision d = w.step("n1").decision;
  EXPECT_NE(d.reason.find("not streaming from this primary"), std::string::npos) << describe(d);
}

// Seed 36205: two servers under the name n2, both member records gone (an etcd outage expired
// their leases). The other one filed the report under n2, ahead of the rest; this n2 must not
// refresh it as its own nor win the election with it (its transaction's compare on the report's
// revision would pass, and it would be promoted on the other's position).
TEST(SyncIdentity, AReportUnderThisNodesNameFromAnotherIdentityIsNotItsOwn) {
  World w = World::cluster(3);
  w.kill("n1");
  w.advance(10000);
  ElectionReport r;
  r.name = "n2";
  r.term = 2;
  r.timeline = 1;
  r.lsn = World::kBase + 5000;
  r.member_id = "id-other";
  w.etcd.put(w.keys.election_report(2, "n2"), encode(r), w.lease_of("n2"));
  w.put_report(2, "n3", 1, World::kBase);
  for (int i = 0; i < 3; ++i) {
    Decision d = w.step("n2").decision;
    EXPECT_EQ(find_write(d, "take leadership"), nullptr) << describe(d);
    EXPECT_EQ(find_write(d, "position for term 2"), nullptr) << "overwrote the other's report: " << describe(d);
    EXPECT_NE(d.reason.find("identity id-other"), std::string::npos) << d.reason;
    w.advance(1000);
  }
}

}  // namespace
}  // namespace pg_ha::unit
