// The codec against answers captured from a real etcd 3.4 gateway (see TOOLCHAIN.md).
#include "etcd/codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pg_ha::etcd::codec {
namespace {

using nlohmann::json;

const char* kHeader = R"("header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"3","raft_term":"2"})";

std::string with_header(const std::string& rest) { return std::string("{") + kHeader + rest + "}"; }

TEST(Codec, RangeWithValue) {
  auto r = decode_range(with_header(R"(,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"eA==","lease":"7587869"}],"count":"1")"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->revision, 3);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "foo");
  EXPECT_EQ(r->kvs[0].value, "x");
  EXPECT_EQ(r->kvs[0].create_revision, 2);
  EXPECT_EQ(r->kvs[0].mod_revision, 3);
  EXPECT_EQ(r->kvs[0].version, 2);
  EXPECT_EQ(r->kvs[0].lease, 7587869);
  EXPECT_EQ(r->count, 1);
  EXPECT_FALSE(r->more);
}

TEST(Codec, MissingKeyHasNoKvs) {
  auto r = decode_range(with_header(""));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->kvs.empty());
  EXPECT_EQ(r->count, 0);
}

TEST(Codec, EmptyValueIsOmitted) {
  auto r = decode_range(with_header(R"(,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1"}],"count":"1")"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs[0].value, "");
}

TEST(Codec, IntegersMayAlsoBeJsonNumbers) {
  auto r = decode_range(R"({"header":{"revision":12},"count":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revision, 12);
}

TEST(Codec, FailedTxnHasNoSucceeded) {
  auto r = decode_txn(with_header(R"(,"responses":[{"response_put":{"header":{"revision":"3"},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}},{"response_delete_range":{"header":{"revision":"3"}}}])"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->succeeded);
  ASSERT_EQ(r->responses.size(), 2u);
  EXPECT_EQ(r->responses[0].kind, kv::RequestOp::Kind::Put);
  ASSERT_EQ(r->responses[0].kvs.size(), 1u);
  EXPECT_EQ(r->responses[0].kvs[0].value, "bar");
  EXPECT_EQ(r->responses[1].kind, kv::RequestOp::Kind::DeleteRange);
  EXPECT_EQ(r->responses[1].deleted, 0);
}

TEST(Codec, SucceededTxnWithRange) {
  auto r = decode_txn(with_header(R"(,"succeeded":true,"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}}])"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(r->responses[0].kind, kv::RequestOp::Kind::Range);
  EXPECT_EQ(r->responses[0].kvs[0].key, "foo");
}

TEST(Codec, LeaseGrantAndKeepAlive) {
  auto g = decode_lease_grant(with_header(R"(,"ID":"4111120164278660105","TTL":"5")"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->id, 4111120164278660105);
  EXPECT_EQ(g->ttl_s, 5);
  auto k = decode_lease_keepalive(std::string(R"({"result":{)") + kHeader + R"(,"ID":"12","TTL":"5"}})");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->ttl_s, 5);
  EXPECT_EQ(k->revision, 3);
}

TEST(Codec, ExpiredLeaseKeepAliveIsNotFound) {
  auto k = decode_lease_keepalive(std::string(R"({"result":{)") + kHeader + R"(,"ID":"12345"}})");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().kind, ErrorKind::NotFound);
  EXPECT_NE(k.error().message.find("12345"), std::string::npos);
}

TEST(Codec, TimeToLive) {
  auto t = decode_lease_time_to_live(with_header(R"(,"ID":"9","TTL":"4","grantedTTL":"5","keys":["Zm9v"])"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ttl_s, 4);
  EXPECT_EQ(t->granted_ttl_s, 5);
  ASSERT_EQ(t->keys.size(), 1u);
  EXPECT_EQ(t->keys[0], "foo");
  auto gone = decode_lease_time_to_live(with_header(R"(,"ID":"12345","TTL":"-1")"));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::NotFound);
}

TEST(Codec, WatchLines) {
  auto created = decode_watch_line(std::string(R"({"result":{)") + kHeader + R"(,"created":true}})");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->header_revision, 3);
  auto events = decode_watch_line(std::string(R"({"result":{)") + kHeader +
      R"(,"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"eA=="},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}},{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"4"}}]}})");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0].type, EventType::Put);
  ASSERT_TRUE(events->events[0].prev_kv.has_value());
  EXPECT_EQ(events->events[0].prev_kv->value, "bar");
  EXPECT_EQ(events->events[1].type, EventType::Delete);
  EXPECT_EQ(events->events[1].kv.mod_revision, 4);
  auto compacted = decode_watch_line(R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"2"}})");
  ASSERT_TRUE(compacted.ok());
  EXPECT_TRUE(compacted->canceled);
  EXPECT_EQ(compacted->compact_revision, 2);
}

TEST(Codec, GrpcErrorBodies) {
  auto unary = decode_error_body(R"({"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16})");
  ASSERT_TRUE(unary.has_value());
  EXPECT_EQ(unary->code, 16);
  EXPECT_EQ(unary->message, "etcdserver: invalid auth token");
  EXPECT_FALSE(unary->in_stream);
  auto stream = decode_error_body(R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(stream->code, 14);
  EXPECT_TRUE(stream->in_stream);
  EXPECT_FALSE(decode_error_body("not json").has_value());
  EXPECT_FALSE(decode_error_body(with_header("")).has_value());
}

TEST(Codec, EncodesRequestsAsTheGatewayWants) {
  RangeRequest range = RangeRequest::prefix("a/");
  range.revision = 5;
  range.limit = 2;
  range.serializable = true;
  json r = json::parse(encode_range(range));
  EXPECT_EQ(r["key"], "YS8=");
  EXPECT_EQ(r["range_end"], "YTA=");  // "a0": the prefix end of "a/"
  EXPECT_EQ(r["revision"], "5");
  EXPECT_EQ(r["limit"], "2");
  EXPECT_EQ(r["serializable"], true);
  EXPECT_FALSE(json::parse(encode_range(RangeRequest::single("k"))).contains("serializable"));

  PutRequest put{"k", "v", 42, true, false};
  json p = json::parse(encode_put(put));
  EXPECT_EQ(p["lease"], "42");
  EXPECT_EQ(p["prev_kv"], true);

  kv::Txn txn;
  txn.compare.push_back(kv::Compare::absent("k"));
  txn.compare.push_back(kv::Compare::prefix_unchanged_since("p/", 9));
  txn.compare.push_back(kv::Compare::value_is("v", "x"));
  txn.success.push_back(kv::RequestOp::put("k", "v", 7));
  txn.failure.push_back(kv::RequestOp::get_prefix("p/"));
  json t = json::parse(encode_txn(txn));
  EXPECT_EQ(t["compare"][0]["target"], "CREATE");
  EXPECT_EQ(t["compare"][0]["create_revision"], "0");
  EXPECT_EQ(t["compare"][1]["target"], "MOD");
  EXPECT_EQ(t["compare"][1]["result"], "LESS");
  EXPECT_EQ(t["compare"][1]["mod_revision"], "10");
  EXPECT_EQ(t["compare"][1]["range_end"], "cDA=");
  EXPECT_EQ(t["compare"][2]["value"], "eA==");
  EXPECT_EQ(t["success"][0]["request_put"]["lease"], "7");
  EXPECT_EQ(t["failure"][0]["request_range"]["range_end"], "cDA=");

  WatchRequest w = WatchRequest::prefix("p/", 11);
  w.prev_kv = true;
  json c = json::parse(encode_watch_create(w))["create_request"];
  EXPECT_EQ(c["start_revision"], "11");
  EXPECT_EQ(c["prev_kv"], true);
}

TEST(Codec, AuthenticateNeverThrowsOnOddPasswords) {
  std::string body = encode_authenticate("u\xff", std::string("p\0w\"", 4));
  json doc = json::parse(body);
  EXPECT_EQ(doc["password"], std::string("p\0w\"", 4));
  auto token = decode_authenticate(R"({"header":{},"token":"abc.12"})");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token.value(), "abc.12");
  EXPECT_FALSE(decode_authenticate(R"({"token":"a\r\nX-Evil: 1"})").ok());
  EXPECT_FALSE(decode_authenticate(R"({"header":{}})").ok());
}

}  // namespace
}  // namespace pg_ha::etcd::codec
