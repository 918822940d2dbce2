// Bad cluster parameters: set_config() refuses what PostgreSQL would refuse, and a node that one
// written straight into etcd (bypassing set_config) keeps from starting comes back by itself
// once the config in etcd is fixed, saying meanwhile why it is down.
#include <string>

#include "etcd/client.hpp"
#include "fixture.hpp"
#include "harness/http.hpp"

namespace pg_ha::test {
namespace {

void put_cluster_config(PgHaCluster& c, const std::string& json) {
  etcd::Options o;
  o.endpoints = c.etcd().endpoints();
  auto client = etcd::Client::create(o);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto r = (*client)->put("/pg_ha/it/config", json);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(Cluster, BadParameterIsRefusedAndANodeItBrokeRecoversOnceEtcdIsFixed) {
  start();
  auto refused = c_->query(primary_, R"(SELECT pg_ha.set_config('{"postgresql":{"parameters":{"max_connections":"abc"}}}'))");
  ASSERT_FALSE(refused.ok()) << "set_config accepted max_connections = abc";
  EXPECT_NE(refused.error().message.find("invalid value for parameter \"max_connections\""), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(value(primary_, "SELECT pg_ha.config()->'postgresql'->'parameters'->>'max_connections'"), "");

  // The same value written straight into etcd, then a replica restarts: postgres cannot start.
  int broken = primary_ == 0 ? 1 : 0;
  put_cluster_config(*c_, config_with(R"("postgresql":{"parameters":{"max_connections":"abc"}})"));
  c_->stop_node(broken);
  c_->start_node(broken);
  std::string url = "http://127.0.0.1:" + std::to_string(c_->http_port(broken)) + "/health";
  HttpResult health;
  bool says_why = c_->wait_until([&] {
    health = http_request(url, "");
    return health.ok && health.body.find("invalid value for parameter") != std::string::npos;
  }, 30000);
  ASSERT_TRUE(says_why) << "/health of the broken node: " << health.status << " " << health.body << "\n" << logs();
  std::printf("[ measured ] /health while down: %ld %s", health.status, health.body.c_str());
  EXPECT_EQ(health.status, 503);
  EXPECT_FALSE(c_->postmaster_running(broken));

  // Fixed in etcd: the sidecar renders the parameters again and starts postgres, no hand edit.
  int64_t fixed = monotonic_ms();
  put_cluster_config(*c_, config_with(R"("postgresql":{"parameters":{"max_connections":"110"}})"));
  ASSERT_TRUE(c_->wait_until([&] { return c_->show(broken, "max_connections") == "110"; }, 60000))
      << c_->name(broken) << " did not come back after the fix\n" << logs();
  std::printf("[ measured ] the broken node serves again %lld ms after the fix in etcd\n",
              static_cast<long long>(monotonic_ms() - fixed));
  EXPECT_EQ(c_->wait_healthy(2, kFailoverMs), primary_) << logs();
  health = http_request(url, "");
  EXPECT_EQ(health.body.find("postgres_down"), std::string::npos) << health.body;
}

}  // namespace
}  // namespace pg_ha::test
