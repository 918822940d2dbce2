// Issue 16 item 2: down/<name> (core::DownRecord, written by a node's sidecar while its postgres
// is down) round-trips, is filed into the view, and keeps the node in the members list of the
// status snapshot (pg_ha.members()) with its state and reason, also after its worker's record went.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/snapshot.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

DownRecord full_disk(const std::string& name) {
  DownRecord d;
  d.name = name;
  d.role = "primary";
  d.state = "start failed";
  d.reason = "exit code 1: FATAL:  could not write lock file \"postmaster.pid\": No space left on device";
  d.since_unix_ms = 1764943200000;
  d.host = "10.0.0.3";
  d.port = 5432;
  d.api_url = "http://10.0.0.3:8008";
  d.member_id = "0123456789abcdef0123456789abcdef";
  return d;
}

TEST(DownMembers, RecordRoundTripsAndIsFiledIntoTheView) {
  DownRecord d = full_disk("n3");
  auto back = decode_down(encode(d));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->state, d.state);
  EXPECT_EQ(back->reason, d.reason);
  EXPECT_EQ(back->since_unix_ms, d.since_unix_ms);
  EXPECT_EQ(back->member_id, d.member_id);
  Keys keys("/pg_ha", "c");
  kv::KeyValue good{keys.down("n3"), encode(d), 5, 5, 0, 77};
  kv::KeyValue wrong_name{keys.down("n2"), encode(d), 6, 6, 0, 77};
  kv::KeyValue bad_host{keys.down("n1"), encode([] { DownRecord x = full_disk("n1"); x.host = "a b"; return x; }()), 7, 7, 0, 77};
  EtcdView v = build_view(keys, {good, wrong_name, bad_host}, 8);
  ASSERT_EQ(v.down.size(), 1u);
  EXPECT_EQ(v.down.at("n3").value.reason, d.reason);
  EXPECT_EQ(v.down.at("n3").lease, 77);
  EXPECT_EQ(v.problems.size(), 2u);
  // A newer version is refused rather than guessed at.
  EXPECT_FALSE(decode_down(R"({"version":2,"name":"n3","state":"x"})").ok());
}

nlohmann::json member(const nlohmann::json& doc, const std::string& name) {
  for (const auto& m : doc["members"])
    if (m["name"] == name) return m;
  return nullptr;
}

TEST(DownMembers, TheSnapshotListsThemWithStateAndReason) {
  World w = World::cluster(3);
  EtcdView v = w.view();
  NodeConfig node = w.node("n1").cfg;
  Decision decision;
  auto render = [&] {
    agent::SnapshotInput in{node, w.config, &v, w.node("n1").obs.get(), decision, true, ""};
    return nlohmann::json::parse(agent::render_snapshot(in));
  };
  EXPECT_TRUE(member(render(), "n3")["reason"].is_null()) << "members that are up have no reason";

  // Its worker's record still there (lease not yet expired): the down record is the newer news.
  v.down["n3"] = Versioned<DownRecord>{full_disk("n3"), 9, 9, 77};
  auto m = member(render(), "n3");
  EXPECT_EQ(m["state"], "start failed");
  EXPECT_EQ(m["reason"], full_disk("n3").reason);
  EXPECT_EQ(m["postgres_running"], false);

  // Its record gone with the worker's lease: still listed, from the down record alone.
  v.members.erase("n3");
  auto doc = render();
  EXPECT_EQ(doc["members"].size(), 3u);
  m = member(doc, "n3");
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m["state"], "start failed");
  EXPECT_EQ(m["role"], "primary");
  EXPECT_EQ(m["host"], "10.0.0.3");
  EXPECT_TRUE(m["lag_bytes"].is_null());
}

// pg_ha.members().sync (and pg_hactl's "sync standby"): a member in the recorded synchronous set
// under its own identity; a second node under the recorded name is not (F16).
TEST(SnapshotMembers, SyncMeansRecordedUnderItsOwnIdentity) {
  World w = World::cluster(3);
  w.put_sync_set({"n2"}, 1);
  Decision decision;
  auto render = [&] {
    EtcdView v = w.view();
    agent::SnapshotInput in{w.node("n1").cfg, w.config, &v, w.node("n1").obs.get(), decision, true, ""};
    return nlohmann::json::parse(agent::render_snapshot(in));
  };
  EXPECT_EQ(member(render(), "n2")["sync"], true);
  EXPECT_EQ(member(render(), "n3")["sync"], false);
  MemberRecord r = w.member_record("n2");
  r.member_id = "id-second";
  w.put_member(r, w.lease_of("n2"));
  EXPECT_EQ(member(render(), "n2")["sync"], false) << "another node holds the recorded name";
}

}  // namespace
}  // namespace pg_ha::unit
