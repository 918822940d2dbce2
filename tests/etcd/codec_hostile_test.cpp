// Malformed and hostile gateway answers: each must give Error{Protocol} with a clear message,
// never a crash, an exception or a silently wrong value.
#include "etcd/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pg_ha::etcd::codec {
namespace {

void expect_protocol_error(const Error& e, const std::string& must_mention) {
  EXPECT_EQ(e.kind, ErrorKind::Protocol) << e.message;
  EXPECT_NE(e.message.find("malformed"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(must_mention), std::string::npos) << e.message;
}

TEST(CodecHostile, NotJsonOrNotAnObject) {
  for (const char* body : {"", "<html>502 Bad Gateway</html>", "[1,2]", "\"x\"", "{\"kvs\":", "null", "{}}"}) {
    auto r = decode_range(body);
    ASSERT_FALSE(r.ok()) << body;
    expect_protocol_error(r.error(), "range");
  }
}

TEST(CodecHostile, WrongTypes) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"kvs":"nope"})", "kvs"},
      {R"({"kvs":[1]})", "key-value"},
      {R"({"kvs":[{"key":5}]})", "key"},
      {R"({"kvs":[{"key":"Zm9v","mod_revision":true}]})", "mod_revision"},
      {R"({"kvs":[{"key":"Zm9v","version":"12abc"}]})", "version"},
      {R"({"kvs":[{"key":"Zm9v","version":1.5}]})", "version"},
      {R"({"header":[]})", "header"},
      {R"({"header":{"revision":{}}})", "revision"},
      {R"({"more":"yes"})", "more"},
      {R"({"count":""})", "count"},
      {R"({"count":" 1"})", "count"},
  };
  for (const auto& [body, field] : cases) {
    auto r = decode_range(body);
    ASSERT_FALSE(r.ok()) << body;
    expect_protocol_error(r.error(), field);
  }
}

TEST(CodecHostile, HugeIntegers) {
  for (const char* body : {R"({"count":"9223372036854775808"})", R"({"count":"-9223372036854775809"})",
                           R"({"count":99999999999999999999})", R"({"count":18446744073709551615})"}) {
    auto r = decode_range(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  }
  auto max = decode_range(R"({"count":"9223372036854775807"})");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->count, INT64_MAX);
}

TEST(CodecHostile, BadBase64) {
  auto r = decode_range(R"({"kvs":[{"key":"Zm9v","value":"not base64!"}]})");
  ASSERT_FALSE(r.ok());
  expect_protocol_error(r.error(), "value");
  auto w = decode_watch_line(R"({"result":{"events":[{"kv":{"key":"@@@@"}}]}})");
  ASSERT_FALSE(w.ok());
  expect_protocol_error(w.error(), "key");
}

TEST(CodecHostile, HugeValueIsDecoded) {
  // 8 MiB of value: large but legal; must round-trip, not be truncated.
  std::string value(8u << 20, 'A');
  auto r = decode_range(R"({"kvs":[{"key":"Zm9v","value":")" + value + R"("}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kvs[0].value.size(), value.size() / 4 * 3);
}

TEST(CodecHostile, DeepNesting) {
  std::string deep(100000, '[');
  auto r = decode_range(deep);
  ASSERT_FALSE(r.ok());
  expect_protocol_error(r.error(), "nested");
  std::string deep_obj = R"({"kvs":[{"key":"Zm9v","x":)" + std::string(70, '[') + std::string(70, ']') + "}]}";
  EXPECT_FALSE(decode_range(deep_obj).ok());
}

TEST(CodecHostile, TxnAndWatchShapes) {
  EXPECT_FALSE(decode_txn(R"({"succeeded":1})").ok());
  EXPECT_FALSE(decode_txn(R"({"responses":[{"response_teleport":{}}]})").ok());
  EXPECT_FALSE(decode_txn(R"({"responses":{}})").ok());
  EXPECT_FALSE(decode_watch_line(R"({"created":true})").ok());
  EXPECT_FALSE(decode_watch_line(R"({"result":{"events":[{"type":"EXPLODE","kv":{}}]}})").ok());
  EXPECT_FALSE(decode_watch_line(R"({"result":{"events":[{"type":"DELETE"}]}})").ok());
  EXPECT_FALSE(decode_watch_line(R"({"error":{"grpc_code":14,"message":"etcdserver: no leader"}})").ok());
  EXPECT_FALSE(decode_lease_keepalive(R"({"ID":"1","TTL":"5"})").ok());
  EXPECT_FALSE(decode_lease_grant(R"({"header":{},"TTL":"5"})").ok());  // no ID
  EXPECT_FALSE(decode_lease_grant(R"({"ID":"1","TTL":"5","error":"too many leases"})").ok());
  EXPECT_FALSE(decode_lease_time_to_live(R"({"ID":"1","TTL":"5","keys":[7]})").ok());
}

TEST(CodecHostile, ErrorBodiesWithWrongTypes) {
  EXPECT_FALSE(decode_error_body(R"({"error":{"grpc_code":"x"}})").has_value());
  EXPECT_FALSE(decode_error_body(R"({"error":"m","code":[1]})").has_value());
  auto big = decode_error_body(R"({"error":"m","code":"99999999999"})");
  ASSERT_TRUE(big.has_value());  // an unknown code is just unknown, not a crash
}

TEST(CodecHostile, InvalidUtf8InStringsIsNotACrash) {
  // JSON with raw bytes that are not UTF-8: the parser rejects it cleanly.
  std::string body = "{\"kvs\":[{\"key\":\"\xff\xfe\"}]}";
  auto r = decode_range(body);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pg_ha::etcd::codec
