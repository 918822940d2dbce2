// The client against a scripted server: answers no real etcd gives on demand (garbage, wrong
// types, lines split across packets, replayed events). Needs no etcd: labelled "unit".
#include <gtest/gtest.h>

#include <mutex>

#include "harness/fake_http_server.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using test::FakeHttpRequest;
using test::FakeHttpResponse;
using test::FakeHttpServer;
using testing::make_client;

FakeHttpResponse answer(int status, std::string body) {
  FakeHttpResponse r;
  r.status = status;
  r.chunks = {std::move(body)};
  return r;
}

TEST(ScriptedServer, GarbageIsAProtocolErrorNamingTheEndpoint) {
  FakeHttpServer server([](const FakeHttpRequest&) { return answer(200, "<html>hello</html>"); });
  auto c = make_client({server.url()});
  auto r = c->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(r.error().message, "etcd " + server.url() + ": malformed range response: not valid JSON");
}

TEST(ScriptedServer, WrongTypesAndBadBase64) {
  std::string body;
  FakeHttpServer server([&](const FakeHttpRequest&) { return answer(200, body); });
  auto c = make_client({server.url()});
  for (const char* b : {R"({"kvs":"x"})", R"({"kvs":[{"key":"!!!!"}]})", R"({"header":{"revision":"1e9"}})"}) {
    body = b;
    auto r = c->range(RangeRequest::prefix("/"));
    ASSERT_FALSE(r.ok()) << b;
    EXPECT_EQ(r.error().kind, ErrorKind::Protocol) << b;
  }
  body = R"({"result":{"ID":"5"}})";
  auto k = c->lease_keepalive(5);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().kind, ErrorKind::NotFound);
}

TEST(ScriptedServer, HttpErrorWithoutGrpcBody) {
  FakeHttpServer server([](const FakeHttpRequest&) { return answer(500, "oops"); });
  auto c = make_client({server.url()});
  auto r = c->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol);
  EXPECT_EQ(r.error().message, "etcd " + server.url() + ": HTTP status 500");
}

TEST(ScriptedServer, NoLeaderMovesOnToTheNextEndpoint) {
  FakeHttpServer follower([](const FakeHttpRequest&) {
    return answer(503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})");
  });
  FakeHttpServer healthy([](const FakeHttpRequest& req) {
    EXPECT_EQ(req.path, "/v3/kv/range");
    return answer(200, R"({"header":{"revision":"9"},"kvs":[{"key":"L2s=","value":"dg==","mod_revision":"9"}],"count":"1"})");
  });
  auto c = make_client({follower.url(), healthy.url()});
  auto r = c->get("/k");
  ASSERT_OK(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->value, "v");
  EXPECT_EQ(c->preferred_endpoint(), healthy.url());
}

TEST(ScriptedServer, TxnIsNotRepeatedAfterALostAnswer) {
  // The server takes the request and then drops the connection without answering.
  FakeHttpServer server([](const FakeHttpRequest&) {
    FakeHttpResponse r;
    r.status = 200;
    r.chunks = {R"({"header":)"};  // half an answer, then the connection closes
    r.truncate = true;
    return r;
  });
  auto c = make_client({server.url()});
  auto t = c->txn(kv::Txn{});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(server.requests(), 1);
  EXPECT_NE(t.error().message.find("outcome unknown"), std::string::npos) << t.error().message;
}

TEST(ScriptedServer, AuthTokenWithControlCharactersIsRefused) {
  FakeHttpServer server([](const FakeHttpRequest&) { return answer(200, R"({"token":"abc\r\nX-Evil: 1"})"); });
  auto c = make_client({server.url()}, [](Options& o) {
    o.user = "u";
    o.allow_insecure_auth = true;   // the fake server speaks http
    o.password = "p";
  });
  auto r = c->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Protocol) << r.error().message;
}

// A watch server: the first stream sends events for revisions 6 and 7, with lines split in the
// middle, then dies; the second stream (which must ask for revision 8) replays 7 and sends 8.
TEST(ScriptedServer, WatchSplitLinesAndResumeWithoutRepeats) {
  std::mutex mu;
  std::vector<std::string> bodies;
  FakeHttpServer server([&](const FakeHttpRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(req.body);
    FakeHttpResponse r;
    r.delay_ms = 20;
    const std::string created = R"({"result":{"header":{"revision":"5"},"created":true}})" "\n";
    const std::string ev7 = R"({"result":{"header":{"revision":"7"},"events":[{"kv":{"key":"L2EvMQ==","mod_revision":"7","value":"Nw=="}}]}})" "\n";
    if (bodies.size() == 1) {
      const std::string ev6 = R"({"result":{"header":{"revision":"6"},"events":[{"kv":{"key":"L2EvMQ==","mod_revision":"6","value":"Ng=="}}]}})" "\n";
      std::string all = created + ev6 + ev7;
      r.chunks = {all.substr(0, 10), all.substr(10, 70), all.substr(80, 1), all.substr(81)};
    } else {
      const std::string ev8 = R"({"result":{"header":{"revision":"8"},"events":[{"type":"DELETE","kv":{"key":"L2EvMQ==","mod_revision":"8"}}]}})" "\n";
      r.chunks = {created, ev7, ev8};
      r.keep_open_ms = 3000;
    }
    return r;
  });
  auto c = make_client({server.url()});
  auto w = c->watch(WatchRequest::prefix("/a/"));
  std::vector<WatchEvent> events;
  auto start = std::chrono::steady_clock::now();
  while (events.size() < 3 && testing::elapsed_ms(start) < 5000) {
    auto got = w->poll(100);
    ASSERT_OK(got);
    events.insert(events.end(), got->begin(), got->end());
  }
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.value, "6");
  EXPECT_EQ(events[1].kv.value, "7");
  EXPECT_EQ(events[2].type, EventType::Delete);
  EXPECT_EQ(w->last_revision(), 8);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(bodies.size(), 2u);
  EXPECT_EQ(bodies[0].find("start_revision"), std::string::npos);  // "from now"
  EXPECT_NE(bodies[1].find(R"("start_revision":"8")"), std::string::npos) << bodies[1];
}

TEST(ScriptedServer, WatchCompactedIsTerminal) {
  FakeHttpServer server([](const FakeHttpRequest&) {
    FakeHttpResponse r;
    r.chunks = {R"({"result":{"header":{"revision":"50"},"created":true}})" "\n",
                R"({"result":{"header":{},"canceled":true,"compact_revision":"40"}})" "\n"};
    r.keep_open_ms = 1000;
    return r;
  });
  auto c = make_client({server.url()});
  std::optional<Error> error;
  auto w = c->watch(WatchRequest::prefix("/a/", 10), {}, [&](const Error& e) { error = e; });
  auto got = w->poll(3000);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Compacted);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->message.find("revision 10"), std::string::npos) << error->message;
  EXPECT_NE(error->message.find("40"), std::string::npos) << error->message;
  EXPECT_EQ(server.requests(), 1);  // not retried
}

}  // namespace
}  // namespace pg_ha::etcd
