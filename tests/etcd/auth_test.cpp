// etcd with auth on: bad credentials, and tokens lost with an etcd restart.
#include <gtest/gtest.h>

#include "harness/etcd_cluster.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

const char* kPassword = "s3cret-pw";

class Auth : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = std::make_unique<test::EtcdCluster>(test::EtcdClusterOptions{});
    etcd_->enable_auth(kPassword);
  }
  std::unique_ptr<Client> client(const std::string& password) {
    return make_client(etcd_->endpoints(), [&](Options& o) {
      o.user = "root";
      o.allow_insecure_auth = true;   // the test etcd speaks http
      o.password = password;
    });
  }
  std::unique_ptr<test::EtcdCluster> etcd_;
};

TEST_F(Auth, WrongPasswordIsAClearError) {
  auto c = client("not-the-password");
  auto r = c->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Auth);
  EXPECT_EQ(r.error().message, "etcd " + etcd_->endpoint(0) + ": authentication failed for user root");
  EXPECT_EQ(r.error().message.find("not-the-password"), std::string::npos);
  auto w = c->watch(WatchRequest::prefix("/"));
  auto got = w->poll(3000);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Auth);
}

TEST_F(Auth, NoCredentialsIsRefused) {
  auto c = make_client(etcd_->endpoints());
  auto r = c->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Auth) << r.error().message;
  EXPECT_NE(r.error().message.find("user name is empty"), std::string::npos) << r.error().message;
}

TEST_F(Auth, TokenLostInAnEtcdRestartIsRenewedTransparently) {
  auto c = client(kPassword);
  ASSERT_OK(c->put("/k", "1"));
  auto lease = c->lease_grant(60);
  ASSERT_OK(lease);
  auto w = c->watch(WatchRequest::prefix("/k"));
  ASSERT_OK(c->run_until([&] { return w->connected(); }, 5000));

  etcd_->restart(0);  // simple tokens live in memory: the old one is now invalid
  etcd_->wait_healthy();

  // Each kind of request recovers by itself, including a keep-alive (whose rejected token
  // would otherwise look like an expired lease).
  auto kept = c->lease_keepalive(lease->id);
  ASSERT_OK(kept);
  EXPECT_EQ(kept->ttl_s, 60);
  ASSERT_OK(c->put("/k", "2"));
  auto got = c->get("/k");
  ASSERT_OK(got);
  EXPECT_EQ((*got)->value, "2");
  std::vector<WatchEvent> events;
  for (int i = 0; i < 50 && events.empty(); ++i) {
    auto e = w->poll(100);
    ASSERT_OK(e);
    events = *e;
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "2");
}

}  // namespace
}  // namespace pg_ha::etcd
