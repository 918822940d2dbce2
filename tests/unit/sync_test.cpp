// Synchronous replication on the leading primary (I3 ordering): the recorded set in `state` always
// covers synchronous_standby_names. Record before naming; un-name before un-recording; shrink the
// record only once the remaining set holds every commit acknowledged under the old setting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "core/control.hpp"

#include "core/sync_names.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

ClusterConfig sync_config(SyncMode mode, bool strict = false, int count = 1) {
  ClusterConfig c;
  c.synchronous_mode = mode;
  c.synchronous_mode_strict = strict;
  c.synchronous_node_count = count;
  return c;
}


bool recorded(const StateRecord& s, const std::string& name) {
  return std::find(s.sync_standbys.begin(), s.sync_standbys.end(), name) != s.sync_standbys.end();
}

// A standby named in synchronous_standby_names (an application_name) acknowledges for the record
// only when the record has its member under the identity the name carries (F16).
bool recorded_standby(const StateRecord& s, const std::string& application_name) {
  core::StandbyName sn = core::parse_standby_application_name(application_name);
  auto id = s.sync_ids.find(sn.name);
  return recorded(s, sn.name) && (id == s.sync_ids.end() ? sn.identity.empty() : core::same_identity(sn.identity, id->second));
}

// The named setting is covered by the recorded set S (quorum q): a commit acknowledged under it is
// on the primary (n1) and on at least k named standbys, so in the worst case on
// ([n1 in S] + max(0, k - |named outside S|)) members of S, and that must be >= q. An active
// record also covers an empty setting only if it makes the primary the complete member.
// `inactive_ok`: an inactive record (synchronous mode turned off) accepts an empty setting.
::testing::AssertionResult covered(const StateRecord& s, const std::string& ssn, bool inactive_ok = false) {
  SyncNames named;
  if (!parse_sync_names(ssn, &named)) return ::testing::AssertionFailure() << "unparseable SSN " << ssn;
  std::vector<std::string> names;
  for (const std::string& n : named.names) if (n != "pg_ha_no_sync_standby") names.push_back(n);
  if (named.quorum > 0 && names.empty()) return ::testing::AssertionSuccess();  // nobody can acknowledge
  if (!s.sync_active) {
    if (named.quorum == 0 || inactive_ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "SSN '" << ssn << "' named while the record is inactive";
  }
  int outside = 0;
  for (const std::string& n : names) outside += recorded_standby(s, n) ? 0 : 1;
  int holders = (recorded(s, "n1") ? 1 : 0) + std::max(0, named.quorum - outside);
  if (holders < s.sync_quorum) {
    return ::testing::AssertionFailure() << "a commit acknowledged under '" << ssn << "' is on only " << holders
                                         << " recorded member(s), quorum " << s.sync_quorum;
  }
  return ::testing::AssertionSuccess();
}

TEST(Sync, NewStandbyIsRecordedBeforeItIsNamed) {
  World w = World::cluster(3, sync_config(SyncMode::On));
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "record synchronous set");
  ASSERT_NE(t, nullptr) << describe(d);
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->sync_active);
  EXPECT_EQ(s->sync_quorum, 1);
  EXPECT_EQ(s->sync_standbys, std::vector<std::string>({"n1", "n2"})) << "the primary holds what it acknowledged alone";
  EXPECT_EQ(d.synchronous_standby_names.value_or(""), "") << "not named before the record is committed";
  EXPECT_TRUE(covered(w.state(), d.synchronous_standby_names.value_or("")));
  w.apply_writes(d);
  w.apply_local("n1", d);

  Decision named = w.step("n1").decision;
  EXPECT_EQ(named.synchronous_standby_names.value_or("?"), ssn_any(1, {"n2"})) << describe(named);
  EXPECT_EQ(find_write(named, "synchronous"), nullptr);
  EXPECT_TRUE(covered(w.state(), *named.synchronous_standby_names));
  w.apply_local("n1", named);
  Decision shrink = w.step("n1").decision;   // n2 has flushed everything: it alone is complete now
  const EtcdWrite* sh = find_write(shrink, "shrink");
  ASSERT_NE(sh, nullptr) << describe(shrink);
  EXPECT_EQ(decode_state(find_put(sh->txn, w.keys.state())->value)->sync_standbys, std::vector<std::string>({"n2"}));
  w.apply_writes(shrink);
  Decision steady = w.step("n1").decision;
  EXPECT_EQ(steady.synchronous_standby_names.value_or("?"), ssn_any(1, {"n2"}));
  EXPECT_TRUE(steady.writes.empty() || find_write(steady, "synchronous") == nullptr) << describe(steady);
}

TEST(Sync, NosyncStandbyIsNeverChosen) {
  World w = World::cluster(3, sync_config(SyncMode::Quorum, false, 2));
  Tags t;
  t.nosync = true;
  w.set_tags("n2", t);
  Decision d = w.step("n1").decision;
  const EtcdWrite* rec = find_write(d, "record synchronous set");
  ASSERT_NE(rec, nullptr) << describe(d);
  EXPECT_EQ(decode_state(find_put(rec->txn, w.keys.state())->value)->sync_standbys, std::vector<std::string>({"n1", "n3"}));
}

TEST(Sync, QuorumModeNamesEveryHealthyStandby) {
  World w = World::cluster(4, sync_config(SyncMode::Quorum, false, 2));
  for (int i = 0; i < 3; ++i) w.run("n1");
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(2, {"n2", "n3", "n4"}));
  StateRecord s = w.state();
  EXPECT_EQ(s.sync_quorum, 2);
  EXPECT_EQ(s.sync_standbys, std::vector<std::string>({"n2", "n3", "n4"}));
}

TEST(Sync, LaggingSynchronousStandbyIsReplacedByOneThatKeepsUp) {
  ClusterConfig c = sync_config(SyncMode::On);
  c.maximum_lag_on_syncnode = 0x1000;
  World w = World::cluster(3, c);
  w.put_sync_set({"n2"}, 1);
  Lsn primary = World::kBase + 0x10000;
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).flush(primary).no_standbys().standby("n2", primary - 0x2000).standby("n3", primary);
  Decision grow = w.step("n1").decision;
  const EtcdWrite* t = find_write(grow, "record synchronous set");
  ASSERT_NE(t, nullptr) << "n2 is 8 KiB behind, over the 4 KiB limit: n3 is recorded first\n" << describe(grow);
  EXPECT_EQ(decode_state(find_put(t->txn, w.keys.state())->value)->sync_standbys, std::vector<std::string>({"n2", "n3"}));
  w.apply_writes(grow);
  EXPECT_EQ(w.step("n1").decision.synchronous_standby_names.value_or(""), ssn_any(1, {"n3"}));
}

TEST(Sync, LaggingStandbyStaysSynchronousWhenNoneKeepsUp) {
  ClusterConfig c = sync_config(SyncMode::On);
  c.maximum_lag_on_syncnode = 0x1000;
  World w = World::cluster(3, c);
  w.put_sync_set({"n2"}, 1);
  Lsn primary = World::kBase + 0x10000;
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).flush(primary).no_standbys().standby("n2", primary - 0x2000).standby("n3", primary - 0x3000);
  Decision d = w.step("n1").decision;
  EXPECT_EQ(find_write(d, "record synchronous set"), nullptr) << describe(d);
  EXPECT_EQ(d.synchronous_standby_names.value_or(""), ssn_any(1, {"n2"})) << "both lag: keep the current one";
}

// n2 was the synchronous standby; it disconnects and n3 (at kBase) replaces it.
World n2_replaced_by_n3() {
  World w = World::cluster(3, sync_config(SyncMode::On));
  w.put_sync_set({"n2"}, 1);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).no_standbys().standby("n3", World::kBase).flush(World::kBase + 0x100);
  return w;
}

TEST(Sync, RemovedStandbyLeavesTheSettingBeforeTheRecord) {
  World w = n2_replaced_by_n3();
  Decision grow = w.step("n1").decision;
  const EtcdWrite* t = find_write(grow, "record synchronous set");
  ASSERT_NE(t, nullptr) << describe(grow);
  auto grown = decode_state(find_put(t->txn, w.keys.state())->value);
  EXPECT_EQ(grown->sync_standbys, std::vector<std::string>({"n2", "n3"})) << "covers both old and new";
  EXPECT_EQ(grown->sync_quorum, 1);
  EXPECT_EQ(grow.synchronous_standby_names.value_or(""), ssn_any(1, {"n2"})) << "unchanged in this step";
  w.apply_writes(grow);
  w.apply_local("n1", grow);

  Decision rename = w.step("n1").decision;
  EXPECT_EQ(rename.synchronous_standby_names.value_or(""), ssn_any(1, {"n3"})) << describe(rename);
  EXPECT_EQ(find_write(rename, "synchronous"), nullptr) << "the record still holds n2";
  EXPECT_TRUE(covered(w.state(), *rename.synchronous_standby_names));
  w.apply_local("n1", rename);

  // The new setting is in effect with the primary at kBase+0x100: commits acknowledged by n2
  // alone may reach that far, so n3 must hold them before n2 leaves the record.
  Decision wait = w.step("n1").decision;
  EXPECT_EQ(find_write(wait, "shrink"), nullptr) << describe(wait);
  w.node("n1").obs.flush(World::kBase + 0x300).standby("n3", World::kBase + 0xff);
  w.advance(100);
  EXPECT_EQ(find_write(w.step("n1").decision, "shrink"), nullptr) << "one byte short of the change point";

  w.node("n1").obs.standby("n3", World::kBase + 0x100);
  w.advance(100);
  Decision shrink = w.step("n1").decision;
  const EtcdWrite* s = find_write(shrink, "shrink recorded synchronous set");
  ASSERT_NE(s, nullptr) << describe(shrink);
  auto shrunk = decode_state(find_put(s->txn, w.keys.state())->value);
  EXPECT_EQ(shrunk->sync_standbys, std::vector<std::string>({"n3"}));
  EXPECT_TRUE(shrunk->sync_active);
  EXPECT_EQ(shrink.synchronous_standby_names.value_or(""), ssn_any(1, {"n3"}));
}

TEST(Sync, NonStrictWithNoStandbyRecordsThePrimaryAloneBeforeClearingTheSetting) {
  World w = World::cluster(3, sync_config(SyncMode::On));
  w.put_sync_set({"n2"}, 1);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).no_standbys();
  Decision wait = w.run("n1").decision;
  EXPECT_EQ(find_write(wait, "only complete member"), nullptr) << "a standby gone for less than loop_wait may come back\n"
                                                               << describe(wait);
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(1, {"n2"})) << "commits wait meanwhile";
  w.advance(w.config.loop_wait_ms);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "only complete member");
  ASSERT_NE(t, nullptr) << describe(d);
  auto s = decode_state(find_put(t->txn, w.keys.state())->value);
  EXPECT_TRUE(s->sync_active) << "the record stays active: if n1 dies, nobody may be promoted automatically";
  EXPECT_EQ(s->sync_standbys, std::vector<std::string>({"n1"}));
  EXPECT_EQ(s->sync_quorum, 1);
  EXPECT_NE(d.synchronous_standby_names.value_or(ssn_any(1, {"n2"})), "") << "SSN is not cleared in the same step";
  w.apply_writes(d);
  w.apply_local("n1", d);
  Decision next = w.step("n1").decision;
  EXPECT_EQ(next.synchronous_standby_names.value_or("?"), "") << describe(next);
  EXPECT_EQ(find_write(next, "synchronous"), nullptr);
  EXPECT_GT(next.write_deadline_ms, w.now) << "commits go on, acknowledged by the primary alone";
}

TEST(Sync, NonStrictPrimaryAloneDiesNobodyIsPromotedAutomatically) {
  World w = World::cluster(3, sync_config(SyncMode::On));
  w.put_sync_set({"n1"}, 1);   // the primary alone holds every acknowledged commit
  w.kill("n1");
  for (int i = 0; i < 40; ++i) {
    w.run("n2");
    w.run("n3");
    w.advance(500);
  }
  EXPECT_TRUE(w.node("n2").obs.get().local.in_recovery);
  EXPECT_TRUE(w.node("n3").obs.get().local.in_recovery);
  EXPECT_NE(w.step("n2").decision.reason.find("synchronous set"), std::string::npos) << describe(w.step("n2").decision);
}

TEST(Sync, StrictWithNoStandbyKeepsCommitsWaiting) {
  World w = World::cluster(3, sync_config(SyncMode::On, /*strict=*/true));
  w.put_sync_set({"n2"}, 1);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"})).no_standbys();
  Decision d = w.step("n1").decision;
  EXPECT_EQ(d.synchronous_standby_names.value_or(""), ssn_any(1, {"n2"})) << describe(d);
  EXPECT_EQ(find_write(d, "state"), nullptr);
  EXPECT_EQ(find_write(d, "synchronous"), nullptr) << "the record is kept";
  EXPECT_TRUE(w.state().sync_active);
}

TEST(Sync, StrictWithNobodyEverNamedBlocksWithAPlaceholder) {
  World w = World::cluster(1, sync_config(SyncMode::On, /*strict=*/true));
  w.put_sync_set({}, 0);
  Decision d = w.step("n1").decision;
  std::string ssn = d.synchronous_standby_names.value_or("");
  SyncNames parsed;
  ASSERT_TRUE(parse_sync_names(ssn, &parsed)) << ssn;
  EXPECT_GE(parsed.quorum, 1) << "a non-empty setting: commits wait";
}

TEST(Sync, OffModeClearsTheSetting) {
  World w = World::cluster(2);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"}));
  Decision d = w.step("n1").decision;
  EXPECT_EQ(d.synchronous_standby_names.value_or("?"), "");
}

TEST(Sync, OffModeWithAnActiveRecordDeactivatesItFirst) {
  World w = World::cluster(2);
  w.put_sync_set({"n2"}, 1);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"}));
  Decision d = w.step("n1").decision;
  ASSERT_NE(find_write(d, "synchronous mode off"), nullptr) << describe(d);
  EXPECT_FALSE(d.synchronous_standby_names.has_value());
}

// A new term's record keeps covering what was acknowledged: the previous record plus the winner
// (which holds everything), with the previous quorum; active if it was, or in strict mode.
TEST(Sync, NewTermRecordsTheWinnerAsTheCompleteSet) {
  struct Case {
    bool strict;
    bool was_active;
    bool active;
  };
  for (Case k : {Case{false, true, true}, Case{false, false, false}, Case{true, false, true}, Case{true, true, true}}) {
    World w = World::cluster(3, sync_config(SyncMode::On, k.strict));
    if (k.was_active) w.put_sync_set({"n2"}, 1);
    w.kill("n1");
    w.run("n2");
    w.run("n3");
    Decision d = w.step("n2").decision;
    const EtcdWrite* t = find_write(d, "take leadership");
    ASSERT_NE(t, nullptr) << describe(d);
    auto s = decode_state(find_put(t->txn, w.keys.state())->value);
    EXPECT_EQ(s->sync_active, k.active) << "strict=" << k.strict << " was_active=" << k.was_active;
    if (k.active) {
      EXPECT_EQ(s->sync_standbys, std::vector<std::string>({"n2"}));
      EXPECT_EQ(s->sync_quorum, 1);
    } else {
      EXPECT_TRUE(s->sync_standbys.empty());
    }
  }
}

TEST(Sync, HandOverRecordsBothOldAndNewPrimary) {
  World w = World::cluster(3, sync_config(SyncMode::On, true));
  w.put_sync_set({"n2"}, 1);
  StateRecord s = w.state();
  s.request = SwitchoverRequest{"n1", "n2", false, false};
  w.put_state(s);
  w.node("n1").obs.ssn(ssn_any(1, {"n2"}));
  w.step("n1");
  w.advance(10);
  Decision d = w.step("n1").decision;
  const EtcdWrite* t = find_write(d, "hand leadership");
  ASSERT_NE(t, nullptr) << describe(d);
  auto next = decode_state(find_put(t->txn, w.keys.state())->value);
  EXPECT_TRUE(next->sync_active);
  EXPECT_EQ(next->sync_standbys, std::vector<std::string>({"n1", "n2"}));
  EXPECT_EQ(next->sync_quorum, 1) << "the previous quorum: still covers every acknowledged commit";
}

// Property: under random standby churn and WAL traffic, at every moment at least `quorum` members
// of the recorded set hold every commit acknowledged since the record became active (so any
// n - k + 1 reports of an election include one that has them all), and the setting stays covered
// by the record.
void churn(SyncMode mode, bool strict, int count, uint32_t seed) {
  World w = World::cluster(5, sync_config(mode, strict, count));
  std::mt19937 rng(seed);
  std::map<std::string, Lsn> flush;
  std::map<std::string, bool> up;
  for (const char* n : {"n2", "n3", "n4", "n5"}) {
    flush[n] = World::kBase;
    up[n] = true;
  }
  Lsn primary = World::kBase;
  Lsn acked = 0;
  // Commits are guaranteed (I3) while the record is active, which it stays in synchronous mode:
  // with no standby, non-strict mode acknowledges on the primary alone, recorded as the only
  // complete member.
  auto ack = [&] {
    if (!w.state().sync_active) {
      acked = 0;
      return;
    }
    SyncNames named;
    if (!parse_sync_names(w.node("n1").obs.get().local.synchronous_standby_names, &named)) return;
    if (named.quorum == 0) {
      acked = primary;
      return;
    }
    std::vector<Lsn> f;
    for (const std::string& n : named.names) {
      std::string m = core::parse_standby_application_name(n).name;   // acknowledges only under its own identity
      f.push_back(app(m) == n && flush.count(m) ? flush[m] : 0);
    }
    std::sort(f.rbegin(), f.rend());
    if (static_cast<int>(f.size()) >= named.quorum) acked = std::max(acked, std::min(primary, f[named.quorum - 1]));
  };
  for (int i = 0; i < 300; ++i) {
    primary += rng() % 0x100;
    for (auto& [n, f] : flush) {
      if (rng() % 10 == 0) up[n] = !up[n];
      if (up[n] && rng() % 2) f = std::max(f, primary - rng() % 0x180 > f ? primary - rng() % 0x80 : f);
      f = std::min(f, primary);
    }
    w.node("n1").obs.flush(primary).no_standbys();
    for (auto& [n, f] : flush) {
      if (up[n]) w.node("n1").obs.standby(n, f);
    }
    ack();
    w.advance(100);
    Decision d = w.run("n1").decision;
    ack();
    StateRecord s = w.state();
    std::string ssn = w.node("n1").obs.get().local.synchronous_standby_names;
    if (d.write_deadline_ms > w.now) {   // only a setting under which it can commit matters
      ASSERT_TRUE(covered(s, ssn, !strict)) << "seed " << seed << " step " << i << "\n" << describe(d);
    }
    if (s.sync_active && acked > 0) {
      int holders = 0;
      for (const std::string& n : s.sync_standbys) holders += n == "n1" || (flush.count(n) && flush[n] >= acked) ? 1 : 0;
      ASSERT_GE(holders, s.sync_quorum) << "seed " << seed << " step " << i << ": acknowledged up to "
                                        << lsn_to_string(acked) << " but too few recorded standbys hold it\n"
                                        << describe(d);
    }
  }
}

TEST(SyncProperty, RecordCoversSettingAndAcknowledgedCommitsUnderChurnOn) {
  for (uint32_t seed = 1; seed <= 12; ++seed) churn(SyncMode::On, false, 1, seed);
}

TEST(SyncProperty, RecordCoversSettingAndAcknowledgedCommitsUnderChurnOnTwo) {
  for (uint32_t seed = 1; seed <= 12; ++seed) churn(SyncMode::On, true, 2, seed);
}

TEST(SyncProperty, RecordCoversSettingAndAcknowledgedCommitsUnderChurnQuorum) {
  for (uint32_t seed = 1; seed <= 12; ++seed) churn(SyncMode::Quorum, false, 2, seed);
}

TEST(SyncProperty, RecordCoversSettingAndAcknowledgedCommitsUnderChurnQuorumStrict) {
  for (uint32_t seed = 1; seed <= 12; ++seed) churn(SyncMode::Quorum, true, 2, seed);
}

}  // namespace
}  // namespace pg_ha::unit

namespace pg_ha::unit {
namespace {

// How many members of the recorded set are sure to hold a commit the primary acknowledges now,
// with `ssn` in effect: the primary itself if recorded, plus the named standbys that must have
// flushed it (the worst case: the acknowledging ones are the unrecorded names first).
int recorded_holders_of_a_new_commit(const StateRecord& s, const std::string& primary, const std::string& ssn) {
  int holders = recorded(s, primary) ? 1 : 0;
  SyncNames named;
  if (!parse_sync_names(ssn, &named) || named.quorum == 0) return holders;
  int unrecorded = 0;
  for (const std::string& n : named.names) unrecorded += recorded_standby(s, n) ? 0 : 1;
  return holders + std::max(0, named.quorum - unrecorded);
}

// Steps the new primary `name` a few times (writes and settings applied) and checks after each
// step: while it may commit and the record is active, a commit it acknowledges is held by at least
// sync_quorum recorded members, so any n - k + 1 election reports include one that has it (I3).
void expect_new_commits_covered(World& w, const std::string& name, int steps) {
  for (int i = 0; i < steps; ++i) {
    w.refresh_standbys(name);
    Decision d = w.run(name).decision;
    StateRecord s = w.state();
    std::string ssn = w.node(name).obs.get().local.synchronous_standby_names;
    if (d.write_deadline_ms <= w.now || !s.sync_active) continue;
    int holders = recorded_holders_of_a_new_commit(s, name, ssn);
    EXPECT_GE(holders, s.sync_quorum) << "step " << i << ": ssn '" << ssn << "', record " << encode(s);
  }
}

// n1 hands over to n2 in synchronous mode; n2 promotes with an empty setting (it never was a
// primary), and n3 re-attaches to it.
World handed_over_to_n2(bool strict) {
  World w = World::cluster(3, sync_config(SyncMode::On, strict));
  for (int i = 0; i < 3; ++i) w.run("n1");  // record and name n2
  EXPECT_EQ(w.node("n1").obs.get().local.synchronous_standby_names, ssn_any(1, {"n2"}));
  auto req = plan_switchover(w.keys, w.view(), w.config, "n2");
  EXPECT_TRUE(req.ok()) << req.error().message;
  w.etcd.apply(req->txn);
  w.run("n1");
  w.advance(10);
  w.run("n1");  // hands over
  EXPECT_EQ(w.view().leader->value.name, "n2");
  w.run("n2");  // promotes
  EXPECT_FALSE(w.node("n2").obs.get().local.in_recovery);
  EXPECT_EQ(w.node("n2").obs.get().local.synchronous_standby_names, "");
  w.kill("n1");  // demoting; gone for this test
  w.node("n3").obs.replica_of("n2");
  w.publish_member("n3");
  return w;
}

// Term 2: n2 won (record [n2], itself). n3 streams from n2; n2 grows the record to [n2, n3]
// quorum 1, names n3, and shrinks it to [n3] once n3 has flushed everything n2 acknowledged alone.
World new_primary_n2_names_n3(int shrink_steps) {
  World w = World::cluster(3, sync_config(SyncMode::On, /*strict=*/false));
  for (int i = 0; i < 3; ++i) w.run("n1");
  w.kill("n1");
  for (int i = 0; i < 3; ++i) {
    w.run("n2");
    w.run("n3");
  }
  EXPECT_FALSE(w.node("n2").obs.get().local.in_recovery);
  w.node("n3").obs.replica_of("n2").timeline(2);
  w.publish_member("n3");
  for (int i = 0; i < 10 && (shrink_steps > 0 || w.node("n2").obs.get().local.synchronous_standby_names.empty()); ++i) {
    w.refresh_standbys("n2");
    w.run("n2");
    shrink_steps -= 1;
  }
  EXPECT_EQ(w.node("n2").obs.get().local.synchronous_standby_names, ssn_any(1, {"n3"}));
  return w;
}

bool elected_after_losing(World& w, const std::string& dead, const std::string& candidate) {
  w.kill(dead);
  for (int i = 0; i < 30; ++i) {
    w.run(candidate);
    w.advance(200);
  }
  return !w.node(candidate).obs.get().local.in_recovery;
}

TEST(SyncTerm, NonStrictElectsTheNamedStandbyOnceTheRecordShrankToIt) {
  World w = new_primary_n2_names_n3(/*shrink_steps=*/6);
  ASSERT_EQ(w.state().sync_standbys, std::vector<std::string>({"n3"})) << encode(w.state());
  EXPECT_TRUE(elected_after_losing(w, "n2", "n3")) << encode(w.state());
}

TEST(SyncTerm, NonStrictNewPrimaryDyingBeforeTheShrinkBlocksAutomaticFailover) {
  // [n2, n3] quorum 1 means "either alone is complete": n3 may still lack what n2 acknowledged
  // alone before naming it, so only n2's report could elect (I3 over liveness, as documented).
  World w = new_primary_n2_names_n3(/*shrink_steps=*/0);  // stop as soon as n3 is named
  StateRecord before = w.state();
  ASSERT_EQ(before.sync_standbys, std::vector<std::string>({"n2", "n3"})) << encode(before);
  EXPECT_FALSE(elected_after_losing(w, "n2", "n3")) << encode(before);
}

TEST(SyncTerm, HandOverNewPrimaryAcknowledgesOnlyWhatTheRecordCovers) {
  World w = handed_over_to_n2(/*strict=*/false);
  expect_new_commits_covered(w, "n2", 5);
}

TEST(SyncTerm, HandOverNewPrimaryAcknowledgesOnlyWhatTheRecordCoversStrict) {
  World w = handed_over_to_n2(/*strict=*/true);
  expect_new_commits_covered(w, "n2", 5);
}

TEST(SyncTerm, StrictBootstrapAcknowledgesOnlyWhatTheRecordCovers) {
  World w;
  w.config = sync_config(SyncMode::On, /*strict=*/true);
  w.add_node("n1").obs.primary().timeline(1).flush(World::kBase).sysid(World::kSysId);
  w.add_node("n2").obs.replica_of("n1").timeline(1).flush(World::kBase);
  w.publish_member("n2");
  w.put_initialize("n1", std::to_string(World::kSysId));
  w.run("n1");  // term 1
  ASSERT_TRUE(w.state().sync_active);
  expect_new_commits_covered(w, "n1", 5);
}

TEST(SyncTerm, ElectionWinnerIsItselfTheCompleteRecord) {
  World w = World::cluster(3, sync_config(SyncMode::On, /*strict=*/true));
  for (int i = 0; i < 3; ++i) w.run("n1");
  w.kill("n1");
  for (int i = 0; i < 3; ++i) {
    w.run("n2");
    w.run("n3");
  }
  ASSERT_FALSE(w.node("n2").obs.get().local.in_recovery);
  w.node("n3").obs.replica_of("n2");
  w.publish_member("n3");
  expect_new_commits_covered(w, "n2", 5);
}

}  // namespace
}  // namespace pg_ha::unit
