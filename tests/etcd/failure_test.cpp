// Unreachable, black-holed and interrupted requests: errors within their bounds, clear messages.
#include <gtest/gtest.h>

#include "harness/etcd_cluster.hpp"
#include "harness/ports.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::elapsed_ms;
using testing::make_client;

std::string loopback(int port) { return "http://127.0.0.1:" + std::to_string(port); }

TEST(Failure, InvalidOptions) {
  Options none;
  auto a = Client::create(none);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().kind, ErrorKind::Invalid);
  Options bad;
  bad.endpoints = {"127.0.0.1:2379"};
  auto b = Client::create(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("http(s)://host:port"), std::string::npos);
  Options no_password;
  no_password.endpoints = {"http://127.0.0.1:1"};
  no_password.user = "root";
  no_password.allow_insecure_auth = true;
  EXPECT_FALSE(Client::create(no_password).ok());
  // Credentials over plain http are refused unless the operator opts in; https is fine.
  Options clear_text;
  clear_text.endpoints = {"https://127.0.0.1:1", "http://127.0.0.1:2"};
  clear_text.user = "root";
  clear_text.password = "s3cr3t-pw";
  auto c = Client::create(clear_text);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::Invalid);
  EXPECT_NE(c.error().message.find("clear text to http://127.0.0.1:2"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find("s3cr3t-pw"), std::string::npos) << c.error().message;
  clear_text.allow_insecure_auth = true;
  EXPECT_TRUE(Client::create(clear_text).ok());
  clear_text.allow_insecure_auth = false;
  clear_text.endpoints = {"https://127.0.0.1:1"};
  EXPECT_TRUE(Client::create(clear_text).ok());
}

TEST(Failure, ConnectionRefusedIsClearAndFast) {
  const std::string url = loopback(test::pick_free_port());
  auto client = make_client({url});
  auto start = std::chrono::steady_clock::now();
  auto r = client->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(elapsed_ms(start), 1000);
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  EXPECT_EQ(r.error().message, "etcd " + url + ": connection refused");
}

TEST(Failure, BlackHoleTimesOutWithinTheRequestTimeout) {
  test::BlackHole hole;
  const std::string url = loopback(hole.port());
  auto client = make_client({url}, [](Options& o) { o.request_timeout_ms = 600; });
  auto start = std::chrono::steady_clock::now();
  auto r = client->get("/k");
  int64_t took = elapsed_ms(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Timeout) << r.error().message;
  EXPECT_GE(took, 550);
  EXPECT_LT(took, 900);
  EXPECT_NE(r.error().message.find("request timed out after 600 ms"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(url), std::string::npos) << r.error().message;

  // A txn (never repeated) is bounded the same way, and says its outcome is unknown.
  auto t = client->txn(kv::Txn{});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::Timeout) << t.error().message;
  EXPECT_NE(t.error().message.find("unknown"), std::string::npos) << t.error().message;
}

TEST(Failure, SkipsDeadAndBlackHoledEndpoints) {
  test::EtcdCluster etcd;
  test::BlackHole hole;
  const std::string dead = loopback(test::pick_free_port());
  auto client = make_client({dead, loopback(hole.port()), etcd.endpoint(0)},
                            [](Options& o) { o.request_timeout_ms = 3000; });
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(client->put("/k", "v"));
  EXPECT_LT(elapsed_ms(start), 3000);
  EXPECT_EQ(client->preferred_endpoint(), etcd.endpoint(0));
  // The endpoint that worked is remembered: the next request is immediate.
  start = std::chrono::steady_clock::now();
  ASSERT_OK(client->get("/k"));
  EXPECT_LT(elapsed_ms(start), 200);
}

TEST(Failure, EveryEndpointDownNamesThem) {
  const std::string a = loopback(test::pick_free_port());
  const std::string b = loopback(test::pick_free_port());
  auto client = make_client({a, b});
  auto r = client->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  EXPECT_NE(r.error().message.find("connection refused"), std::string::npos) << r.error().message;
}

TEST(Failure, InterruptAbortsWithin100Ms) {
  test::BlackHole hole;
  auto fire_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  auto client = make_client({loopback(hole.port())}, [&](Options& o) {
    o.request_timeout_ms = 10000;
    o.interrupt = [&] { return std::chrono::steady_clock::now() >= fire_at; };
  });
  auto r = client->get("/k");
  auto late_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - fire_at).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Interrupted) << r.error().message;
  EXPECT_LT(late_ms, 100);
  EXPECT_EQ(client->pending(), 0u);  // the interrupted request was cancelled, not left behind
}

TEST(Failure, InterruptAlsoStopsAWatchPoll) {
  test::BlackHole hole;
  auto fire_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto client = make_client({loopback(hole.port())}, [&](Options& o) {
    o.interrupt = [&] { return std::chrono::steady_clock::now() >= fire_at; };
  });
  auto w = client->watch(WatchRequest::prefix("/x/"));
  auto r = w->poll(10000);
  auto late_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - fire_at).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Interrupted);
  EXPECT_LT(late_ms, 100);
}

}  // namespace
}  // namespace pg_ha::etcd
