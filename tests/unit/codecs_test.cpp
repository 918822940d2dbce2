// Record codecs and the view builder: every record survives a round trip, and hostile input is an
// error value, never a crash or a guess.
#include <gtest/gtest.h>

#include <cstdlib>

#include <string>

#include "core/schema.hpp"
#include "core/sidecar_channel.hpp"

namespace pg_ha::core {
namespace {

MemberRecord sample_member() {
  MemberRecord r;
  r.name = "node-1";
  r.role = Role::Replica;
  r.state = "streaming";
  r.postgres_running = true;
  r.timeline = 7;
  r.flush_lsn = 0x1A2B3C4D5E6FULL;
  r.replay_lsn = 0x1A2B3C4D0000ULL;
  r.upstream = "node-2";
  r.host = "10.0.0.1";
  r.port = 5433;
  r.api_url = "http://10.0.0.1:8008";
  r.lease_id = 7587861234567890123LL;
  r.tags.nofailover = true;
  r.tags.priority = 42;
  r.tags.nosync = true;
  r.tags.noloadbalance = true;
  r.pending_restart = true;
  r.error = "pg_rewind failed: \"quoted\" \\ and unicode \xc3\xa9";
  return r;
}

TEST(Codecs, MemberRoundTrip) {
  MemberRecord r = sample_member();
  auto d = decode_member(encode(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, r.name);
  EXPECT_EQ(d->role, r.role);
  EXPECT_EQ(d->state, r.state);
  EXPECT_EQ(d->postgres_running, r.postgres_running);
  EXPECT_EQ(d->timeline, r.timeline);
  EXPECT_EQ(d->flush_lsn, r.flush_lsn);
  EXPECT_EQ(d->replay_lsn, r.replay_lsn);
  EXPECT_EQ(d->upstream, r.upstream);
  EXPECT_EQ(d->host, r.host);
  EXPECT_EQ(d->port, r.port);
  EXPECT_EQ(d->api_url, r.api_url);
  EXPECT_EQ(d->lease_id, r.lease_id);
  EXPECT_EQ(d->tags.nofailover, r.tags.nofailover);
  EXPECT_EQ(d->tags.priority, r.tags.priority);
  EXPECT_EQ(d->tags.nosync, r.tags.nosync);
  EXPECT_EQ(d->tags.noloadbalance, r.tags.noloadbalance);
  EXPECT_EQ(d->pending_restart, r.pending_restart);
  EXPECT_EQ(d->error, r.error);
  EXPECT_EQ(encode(*d), encode(r));
}

TEST(Codecs, EveryRoleRoundTrips) {
  for (Role role : {Role::Primary, Role::Replica, Role::Unknown}) {
    MemberRecord r = sample_member();
    r.role = role;
    auto d = decode_member(encode(r));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->role, role);
  }
}

TEST(Codecs, LeaderRoundTrip) {
  LeaderRecord r{"n2", 9007199254740993LL};  // above 2^53: must not go through a double
  auto d = decode_leader(encode(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, "n2");
  EXPECT_EQ(d->term, r.term);
}

TEST(Codecs, StateRoundTripWithAndWithoutRequest) {
  StateRecord s;
  s.term = 12;
  s.primary = "n3";
  s.timeline = 5;
  s.paused = true;
  s.sync_active = true;
  s.sync_quorum = 2;
  s.sync_standbys = {"n1", "n2", "n4"};
  auto plain = decode_state(encode(s));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->request.has_value());
  EXPECT_EQ(encode(*plain), encode(s));

  s.request = SwitchoverRequest{"n3", "n4", true, true};
  auto d = decode_state(encode(s));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->term, 12);
  EXPECT_EQ(d->primary, "n3");
  EXPECT_EQ(d->timeline, 5u);
  EXPECT_TRUE(d->paused);
  EXPECT_TRUE(d->sync_active);
  EXPECT_EQ(d->sync_quorum, 2);
  EXPECT_EQ(d->sync_standbys, s.sync_standbys);
  ASSERT_TRUE(d->request.has_value());
  EXPECT_EQ(d->request->from, "n3");
  EXPECT_EQ(d->request->to, "n4");
  EXPECT_TRUE(d->request->failover);
  EXPECT_TRUE(d->request->force);
}

TEST(Codecs, OptimeRoundTrip) {
  OptimeRecord r{3, 0xFFFFFFFFFFFFFFFFULL};
  auto d = decode_optime(encode(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->timeline, 3u);
  EXPECT_EQ(d->lsn, r.lsn);
}

TEST(Codecs, ElectionReportRoundTrip) {
  ElectionReport r;
  r.name = "n5";
  r.term = 4;
  r.timeline = 2;
  r.lsn = 0x5000060;
  r.tags.priority = 0;
  r.tags.nofailover = true;
  r.was_primary = true;
  auto d = decode_report(encode(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->name, "n5");
  EXPECT_EQ(d->term, 4);
  EXPECT_EQ(d->timeline, 2u);
  EXPECT_EQ(d->lsn, r.lsn);
  EXPECT_EQ(d->tags.priority, 0);
  EXPECT_TRUE(d->tags.nofailover);
  EXPECT_TRUE(d->was_primary);
}

TEST(Codecs, HistoryRoundTrip) {
  HistoryRecord h;
  h.term = 8;
  h.reason = "manual failover";
  h.old_primary = "n1";
  h.new_primary = "n2";
  h.old_timeline = 3;
  h.lsn = 0x7000028;
  h.at_unix_ms = -5;  // display only, any value survives
  auto d = decode_history(encode(h));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(encode(*d), encode(h));
}

TEST(Codecs, InitializeRoundTrip) {
  InitializeRecord r{"n1", "7301234567890123456"};
  auto d = decode_initialize(encode(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->node, "n1");
  EXPECT_EQ(d->system_identifier, r.system_identifier);
}

TEST(Codecs, ClusterConfigRoundTrip) {
  ClusterConfig c;
  c.ttl_s = 20;
  c.loop_wait_ms = 2000;
  c.synchronous_mode = SyncMode::Quorum;
  c.synchronous_mode_strict = true;
  c.synchronous_node_count = 2;
  c.maximum_lag_on_failover = 0;
  c.postgresql_parameters = {{"work_mem", "64MB"}, {"max_connections", "200"}};
  auto d = parse_cluster_config(encode_cluster_config(c));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(encode_cluster_config(*d), encode_cluster_config(c));
}

TEST(Codecs, SidecarChannelRoundTrip) {
  SidecarRequest r;
  r.kind = SidecarRequest::Kind::Rewind;
  r.id = "rewind-3-n2";
  r.primary = "n2";
  r.primary_host = "h2";
  r.primary_port = 5433;
  r.reason = "diverged";
  auto d = decode_sidecar_request(encode_sidecar_request(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(encode_sidecar_request(*d), encode_sidecar_request(r));

  SidecarResult res{"rewind-3-n2", true, "done", 1700000000000};
  auto dr = decode_sidecar_result(encode_sidecar_result(res));
  ASSERT_TRUE(dr.ok()) << dr.error().message;
  EXPECT_EQ(encode_sidecar_result(*dr), encode_sidecar_result(res));
  EXPECT_FALSE(decode_sidecar_request(R"({"version":1,"id":"x","kind":"format_disk"})").ok());
  EXPECT_FALSE(decode_sidecar_request(R"({"version":1,"kind":"demote"})").ok());
}

TEST(Codecs, LsnTextRoundTrip) {
  for (Lsn lsn : {Lsn{0}, Lsn{0x3000148}, Lsn{0x100000000ULL}, Lsn{0xFFFFFFFFFFFFFFFFULL}}) {
    Lsn back = 1;
    ASSERT_TRUE(lsn_from_string(lsn_to_string(lsn), &back)) << lsn_to_string(lsn);
    EXPECT_EQ(back, lsn);
  }
  EXPECT_EQ(lsn_to_string(0x3000148), "0/3000148");
  Lsn out = 0;
  EXPECT_TRUE(lsn_from_string("a/b", &out));
  EXPECT_EQ(out, 0xA0000000BULL);
}

// ---- hostile input ------------------------------------------------------------------------------

struct Hostile {
  const char* label;
  std::string text;
};

constexpr char kNulDoc[] = "{\"version\":1,\0\"name\":\"n1\"}";

std::vector<Hostile> hostile_inputs() {
  return {
      {"empty", ""},
      {"not json", "leader: n1"},
      {"truncated", R"({"version":1,"name":"n1")"},
      {"array", R"([{"version":1,"name":"n1"}])"},
      {"number", "42"},
      {"string", R"("n1")"},
      {"null", "null"},
      {"no version", R"({"name":"n1","term":1})"},
      {"version as string", R"({"version":"1","name":"n1","term":1})"},
      {"newer schema", R"({"version":2,"name":"n1","term":1})"},
      {"negative version", R"({"version":-1,"name":"n1","term":1})"},
      {"invalid utf-8", std::string("{\"version\":1,\"name\":\"\xff\xfe\"}")},
      {"nul byte", std::string(kNulDoc, sizeof kNulDoc - 1)},
      {"larger than 1 MiB", "{\"version\":1,\"name\":\"" + std::string(1 << 20, 'x') + "\"}"},
  };
}

template <class F>
void expect_all_rejected(const char* codec, F decode) {
  for (const Hostile& h : hostile_inputs()) {
    auto r = decode(h.text);
    EXPECT_FALSE(r.ok()) << codec << " accepted hostile input: " << h.label;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty()) << codec << ": " << h.label;
    }
  }
}

TEST(CodecsHostile, EveryDecoderRejectsMalformedDocuments) {
  expect_all_rejected("initialize", decode_initialize);
  expect_all_rejected("member", decode_member);
  expect_all_rejected("leader", decode_leader);
  expect_all_rejected("state", decode_state);
  expect_all_rejected("optime", decode_optime);
  expect_all_rejected("report", decode_report);
  expect_all_rejected("history", decode_history);
  expect_all_rejected("sidecar request", decode_sidecar_request);
  expect_all_rejected("sidecar result", decode_sidecar_result);
  for (const Hostile& h : hostile_inputs()) {
    EXPECT_FALSE(parse_cluster_config(h.text).ok()) << "config accepted " << h.label;
  }
}

TEST(CodecsHostile, NewerSchemaVersionNamesTheVersion) {
  auto r = decode_state(R"({"version":2,"term":1})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
}

TEST(CodecsHostile, WrongFieldTypesAreErrorsNamingTheField) {
  auto leader_term_string = decode_leader(R"({"version":1,"name":"n1","term":"1"})");
  ASSERT_FALSE(leader_term_string.ok());
  EXPECT_NE(leader_term_string.error().message.find("term"), std::string::npos);
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":7,"term":1})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":1.5})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":true})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":["n1"],"term":1})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"paused":"yes"})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"sync_standbys":"n2"})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"sync_standbys":["n2",3]})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"request":"n2"})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"request":{"to":5}})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","tags":[]})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","tags":{"priority":"high"}})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","port":"5432"})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","lease_id":12})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","lease_id":"12abc"})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","postgres_running":1})").ok());
}

TEST(CodecsHostile, HugeNumbersAreOutOfRange) {
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":18446744073709551615})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":-1})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":1e30})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":1e400})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"n1","term":123456789012345678901234567890})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"timeline":4294967296})").ok());
  EXPECT_FALSE(decode_state(R"({"version":1,"term":1,"sync_quorum":65})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","port":65536})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","tags":{"priority":-1}})").ok());
  EXPECT_FALSE(decode_member(R"({"version":1,"name":"n1","tags":{"priority":2147483648}})").ok());
  EXPECT_FALSE(decode_state(R"({"version":99999999999,"term":1})").ok());
  EXPECT_FALSE(parse_cluster_config(R"({"version":1,"ttl":1e9})").ok());
  EXPECT_FALSE(parse_cluster_config(R"({"version":1,"loop_wait_ms":-5})").ok());
}

TEST(CodecsHostile, MissingNameIsAnError) {
  EXPECT_FALSE(decode_leader(R"({"version":1,"term":3})").ok());
  EXPECT_FALSE(decode_leader(R"({"version":1,"name":"","term":3})").ok());
}

TEST(CodecsHostile, BadLsnTextIsAnError) {
  for (const char* lsn : {"", "0", "3000148", "0/", "/0", "0/XYZ", "0/3000148 ", " 0/1", "-1/0", "0/-1",
                          "123456789/0", "0/123456789", "0//1", "0x1/0", "1/2/3"}) {
    std::string doc = std::string(R"({"version":1,"timeline":1,"lsn":")") + lsn + "\"}";
    auto r = decode_optime(doc);
    if (std::string(lsn).empty()) {
      EXPECT_TRUE(r.ok()) << "an empty LSN reads as absent";
      continue;
    }
    EXPECT_FALSE(r.ok()) << "accepted LSN \"" << lsn << "\"";
  }
  EXPECT_FALSE(decode_optime(R"({"version":1,"lsn":50331648})").ok()) << "LSN must be text";
  Lsn out = 0;
  EXPECT_FALSE(lsn_from_string("G/0", &out));
}

TEST(CodecsHostile, DeeplyNestedJsonIsAnErrorNotAStackOverflow) {
  std::string deep = "{\"version\":1,\"name\":\"n1\",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = decode_leader(deep);  // must return at all; a nested unknown field is simply ignored
  EXPECT_TRUE(r.ok());
  std::string unbalanced = std::string(200000, '[');
  EXPECT_FALSE(decode_member(unbalanced).ok());
}

TEST(CodecsHostile, UnknownConfigKeyIsRejected) {
  auto r = parse_cluster_config(R"({"version":1,"ttl":10,"loop_wiat_ms":1000})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("loop_wiat_ms"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_cluster_config(R"({"version":1,"postgresql":{"paramters":{}}})").ok());
  EXPECT_FALSE(parse_cluster_config(R"({"version":1,"synchronous_mode":"sometimes"})").ok());
  EXPECT_FALSE(parse_cluster_config(R"({"version":1,"postgresql":{"parameters":{"work_mem":["1MB"]}}})").ok());
}

// ---- build_view ------------------------------------------------------------------------------------

TEST(BuildView, CorruptKeyGoesToProblemsAndTheRestIsKept) {
  Keys keys("/pg_ha", "c");
  MemberRecord m = sample_member();
  m.name = "n2";
  std::vector<kv::KeyValue> kvs = {
      {keys.leader(), "{not json", 5, 5, 1, 101},
      {keys.state(), encode(StateRecord{3, "n1", 2, false, false, 0, {}, std::nullopt, "", {}}), 4, 6, 2, 0},
      {keys.member("n2"), encode(m), 3, 7, 3, 102},
      {keys.member("n3"), R"({"version":1,"name":"n3","flush_lsn":"zz"})", 3, 8, 1, 103},
      {keys.optime(), R"({"version":3,"lsn":"0/1"})", 2, 9, 1, 0},
  };
  EtcdView v = build_view(keys, kvs, 9);
  EXPECT_EQ(v.revision, 9);
  EXPECT_FALSE(v.leader.has_value());
  EXPECT_FALSE(v.optime.has_value());
  ASSERT_TRUE(v.state.has_value());
  EXPECT_EQ(v.state->value.term, 3);
  EXPECT_EQ(v.state->mod_revision, 6);
  EXPECT_EQ(v.state->create_revision, 4);
  ASSERT_EQ(v.members.count("n2"), 1u);
  EXPECT_EQ(v.members.at("n2").lease, 102);
  EXPECT_EQ(v.members.count("n3"), 0u);
  ASSERT_EQ(v.problems.size(), 3u);
  EXPECT_NE(v.problems[0].find(keys.leader()), std::string::npos) << v.problems[0];
}

TEST(BuildView, RecordsThatContradictTheirKeyAreProblems) {
  Keys keys("/pg_ha", "c");
  MemberRecord m = sample_member();
  m.name = "n9";
  ElectionReport r;
  r.name = "n2";
  r.term = 5;
  ElectionReport good = r;
  good.name = "n3";
  std::vector<kv::KeyValue> kvs = {
      {keys.member("n2"), encode(m), 2, 2, 1, 1},                       // names n9
      {keys.member("n4"), R"({"version":1})", 2, 2, 1, 1},              // names nobody
      {keys.election_report(6, "n2"), encode(r), 3, 3, 1, 1},           // term 5 under term 6
      {keys.election_report(5, "n9"), encode(r), 3, 3, 1, 1},           // n2 under n9
      {keys.election_prefix() + "abc/n2", encode(r), 3, 3, 1, 1},        // malformed term
      {keys.election_report(5, "n3"), encode(good), 4, 4, 1, 1},
      {keys.history_prefix() + "x", "{}", 3, 3, 1, 0},
      {keys.root() + "something_else", "{}", 3, 3, 1, 0},
      {"/other/cluster/leader", "garbage", 3, 3, 1, 0},                  // outside our root: ignored
  };
  EtcdView v = build_view(keys, kvs, 4);
  EXPECT_TRUE(v.members.empty());
  ASSERT_EQ(v.reports.size(), 1u);
  EXPECT_EQ(v.reports.at(5).count("n3"), 1u);
  EXPECT_EQ(v.problems.size(), 7u);
}

TEST(BuildView, TermTooLargeForInt64InAKeyIsAProblem) {
  // A 20-digit term past INT64_MAX must not overflow (UBSan caught it): the key is a problem.
  Keys keys("/pg_ha", "c");
  HistoryRecord h;
  h.term = 1;
  ElectionReport r;
  r.name = "n2";
  r.term = 1;
  std::vector<kv::KeyValue> kvs = {
      {keys.history_prefix() + "99999999999999999999", encode(h), 2, 2, 1, 0},
      {keys.election_prefix() + "99999999999999999999/n2", encode(r), 3, 3, 1, 7},
      {keys.history_prefix() + "09223372036854775808", encode(h), 4, 4, 1, 0},
  };
  EtcdView v = build_view(keys, kvs, 4);
  EXPECT_TRUE(v.history.empty());
  EXPECT_TRUE(v.reports.empty());
  EXPECT_EQ(v.problems.size(), 3u);
}

TEST(BuildView, LargestTermInAKeyIsAccepted) {
  Keys keys("/pg_ha", "c");
  HistoryRecord h;
  h.term = INT64_MAX;
  std::vector<kv::KeyValue> kvs = {{keys.history(INT64_MAX), encode(h), 2, 2, 1, 0}};
  EtcdView v = build_view(keys, kvs, 2);
  EXPECT_TRUE(v.problems.empty());
  EXPECT_EQ(v.history.count(INT64_MAX), 1u);
}

TEST(BuildView, FilesEveryKnownKey) {
  Keys keys("/pg_ha/", "c");  // a trailing slash on the prefix is tolerated
  EXPECT_EQ(keys.root(), "/pg_ha/c/");
  ElectionReport r;
  r.name = "n2";
  r.term = 12;
  HistoryRecord h;
  h.term = 11;
  std::vector<kv::KeyValue> kvs = {
      {keys.initialize(), encode(InitializeRecord{"n1", "1"}), 2, 2, 1, 0},
      {keys.config(), encode_cluster_config(ClusterConfig{}), 3, 3, 1, 0},
      {keys.leader(), encode(LeaderRecord{"n1", 11}), 4, 4, 1, 55},
      {keys.optime(), encode(OptimeRecord{1, 5}), 5, 5, 1, 0},
      {keys.election_report(12, "n2"), encode(r), 6, 6, 1, 56},
      {keys.history(11), encode(h), 7, 7, 1, 0},
      {keys.restart("n2"), "{\"version\":1}", 8, 8, 1, 0},
  };
  EtcdView v = build_view(keys, kvs, 8);
  EXPECT_TRUE(v.problems.empty()) << v.problems.front();
  EXPECT_TRUE(v.initialize && v.config && v.leader && v.optime);
  EXPECT_EQ(v.leader->lease, 55);
  EXPECT_EQ(v.reports.at(12).at("n2").lease, 56);
  EXPECT_EQ(v.history.count(11), 1u);
  EXPECT_EQ(v.restart_requests.at("n2").mod_revision, 8);
  EXPECT_EQ(keys.election_report(12, "n2"), "/pg_ha/c/election/00000000000000000012/n2");
}

}  // namespace
}  // namespace pg_ha::core
