// Hostile or broken data in etcd (issue 13, item 5): every field is validated while decoding; a
// bad record becomes a problem in the view, never a crash, a conninfo or a command line. The
// status snapshot renders whatever the view holds without throwing, and within its size limit.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/snapshot.hpp"
#include "core/sidecar_channel.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;
using nlohmann::json;

std::string member_json(const std::string& name, const std::string& host, int port) {
  MemberRecord r;
  r.name = name;
  r.role = Role::Replica;
  r.host = host;
  r.port = port;
  json j = json::parse(encode(r));
  j["host"] = host;
  return j.dump();
}

std::string snapshot_of(World& w, const EtcdView& v, size_t max_bytes = agent::kSnapshotMaxBytes) {
  NodeConfig node;
  node.name = "n1";
  Observation obs;
  Decision d;
  agent::SnapshotInput in{node, w.config, &v, obs, d, false, ""};
  in.max_bytes = max_bytes;
  return agent::render_snapshot(in);
}

TEST(EtcdInput, NonUtf8MemberKeyIsAProblemAndTheSnapshotStillRenders) {
  World w = World::cluster(3);
  std::string key = w.keys.member("n\xff\xfe");
  w.etcd.put(key, member_json("n4", "10.0.0.4", 5432));
  EtcdView v = w.view();
  EXPECT_EQ(v.members.size(), 3u);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_NE(v.problems[0].find("\\xff\\xfe"), std::string::npos) << v.problems[0];
  std::string text;
  ASSERT_NO_THROW(text = snapshot_of(w, v));
  json doc = json::parse(text);   // valid UTF-8, valid JSON
  EXPECT_EQ(doc["problems"].size(), 1u);
  EXPECT_EQ(doc["members"].size(), 3u);
}

// Found by tests/fuzz (view): the restart key's problem repeated the raw name after the escaped
// key, so a hostile key carried invalid UTF-8 and any length into the status.
TEST(EtcdInput, HostileRestartKeyIsEscapedAndClippedInItsProblem) {
  World w = World::cluster(3);
  w.etcd.put(w.keys.restart("n\xf1" + std::string(1000, 'x')), "1764590000000");
  EtcdView v = w.view();
  EXPECT_TRUE(v.restart_requests.empty());
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0].find('\xf1'), std::string::npos) << v.problems[0];
  EXPECT_NE(v.problems[0].find("\\xf1"), std::string::npos) << v.problems[0];
  EXPECT_LT(v.problems[0].size(), 300u) << v.problems[0];
}

TEST(EtcdInput, HostileHostIsRejected) {
  World w = World::cluster(3);
  w.etcd.put(w.keys.member("n3"), member_json("n3", "h'\ninclude '/tmp/x", 5432), w.lease_of("n3"));
  EtcdView v = w.view();
  EXPECT_EQ(v.members.count("n3"), 0u);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_NE(v.problems[0].find("host"), std::string::npos) << v.problems[0];
  EXPECT_FALSE(decode_member(member_json("n3", "a b", 5432)).ok());
  EXPECT_FALSE(decode_member(member_json("n3", "h\\x", 5432)).ok());
  EXPECT_FALSE(decode_member(member_json("n3", "10.0.0.3", 0)).ok()) << "a host needs a port";
  EXPECT_TRUE(decode_member(member_json("n3", "", 0)).ok()) << "not reachable yet";
  EXPECT_TRUE(decode_member(member_json("n3", "fe80::1%eth0", 5432)).ok());
  EXPECT_TRUE(decode_member(member_json("n3", "db-3.example.com", 5432)).ok());
}

TEST(EtcdInput, NamesInRecordsAreValidated) {
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1'; x","term":1})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"primary":"a/b"})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"sync_standbys":["ok","no way"]})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","upstream":"x\ny"})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1})").ok()) << "a member record names its member";
  EXPECT_FALSE(decode_history(R"({"version":1,"term":2,"new_primary":"\u0000"})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","port":"5432"})").ok()) << "JSON types are checked";
  EXPECT_TRUE(decode_state(R"({"version":1,"term":1,"primary":"n1","sync_standbys":["n2"]})").ok());
}

TEST(EtcdInput, SidecarRequestAddressIsValidated) {
  SidecarRequest r;
  r.id = "1";
  r.kind = SidecarRequest::Kind::Rewind;
  r.primary = "n2";
  r.primary_host = "h' user=postgres";
  r.primary_port = 5432;
  EXPECT_FALSE(decode_sidecar_request(encode_sidecar_request(r)).ok());
  r.primary_host = "10.0.0.2";
  EXPECT_TRUE(decode_sidecar_request(encode_sidecar_request(r)).ok());
}

TEST(EtcdInput, EncodingNeverThrowsOnInvalidUtf8) {
  MemberRecord r;
  r.name = "n1";
  r.error = "pg said \xff\xfe";
  std::string text;
  ASSERT_NO_THROW(text = encode(r));
  EXPECT_TRUE(decode_member(text).ok());
}

// Issue 13, item 6: the snapshot keeps publishing however long the history grows.
TEST(StatusSnapshot, LongHistoryIsTruncatedToFitAndSaysSo) {
  World w = World::cluster(3);
  for (int64_t term = 2; term <= 600; ++term) {
    HistoryRecord h;
    h.term = term;
    h.reason = "failover";
    h.old_primary = "n1";
    h.new_primary = "n2";
    h.at_unix_ms = 1700000000000 + term;
    w.etcd.put(w.keys.history(term), encode(h));
  }
  EtcdView v = w.view();
  ASSERT_EQ(v.history.size(), 600u);
  std::string text = snapshot_of(w, v);
  ASSERT_LE(text.size(), agent::kSnapshotMaxBytes);
  json doc = json::parse(text);
  size_t shown = doc["history"].size();
  EXPECT_GT(shown, 50u);
  EXPECT_LT(shown, 600u);
  EXPECT_EQ(doc["history_omitted"].get<size_t>(), 600 - shown);
  EXPECT_EQ(doc["history"].back()["term"], 600) << "the newest are kept";
  EXPECT_NE(doc["problems"].back().get<std::string>().find("newest"), std::string::npos);
  EXPECT_EQ(doc["members"].size(), 3u);
}

TEST(StatusSnapshot, EvenATinyLimitPublishesTheNodeStatus) {
  World w = World::cluster(3);
  EtcdView v = w.view();
  std::string text = snapshot_of(w, v, 600);
  json doc = json::parse(text);
  EXPECT_EQ(doc["node"]["name"], "n1");
  EXPECT_EQ(doc["problems"].size(), 1u);
}

}  // namespace
}  // namespace pg_ha::unit
