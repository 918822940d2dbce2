// Issue 16 item 2: a member whose PostgreSQL is down stays in pg_ha.members() with a state and a
// reason (its sidecar's down/<name> key, docs/keys.md "Down members"), instead of vanishing once
// its worker's lease expired; the sidecar's /health and /liveness say the same. Here: a replica
// whose postmaster dies while the cluster is paused, so its sidecar leaves it down.
#include <gtest/gtest.h>

#include <thread>

#include "fixture.hpp"
#include "harness/http.hpp"

namespace pg_ha::test {
namespace {

class DownMembers : public Cluster {};

TEST_F(DownMembers, AStoppedReplicaStaysListedWithStateAndReason) {
  start();
  ASSERT_FALSE(HasFatalFailure());
  int r = (primary_ + 1) % c_->size();
  std::string name = c_->name(r);
  control(primary_, "SELECT pg_ha.pause()");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));   // sidecars re-read the pause each second
  c_->kill_postmaster(r);

  std::string sql = "SELECT state || ' | ' || coalesce(reason, '') FROM pg_ha.members() WHERE name = '" + name + "'";
  std::string seen;
  // Past the ttl (5 s): the worker's record has gone with its lease, the node is still listed.
  bool listed = c_->wait_until([&] {
    seen = value(primary_, sql);
    return c_->etcd_value("members/" + name).empty() && seen.rfind("stopped | ", 0) == 0 &&
           seen.find("paused") != std::string::npos;
  }, 20000);
  EXPECT_TRUE(listed) << "members() says \"" << seen << "\"\n" << logs();
  EXPECT_EQ(value(primary_, "SELECT count(*) FROM pg_ha.members()"), "3");
  std::string base = "http://127.0.0.1:" + std::to_string(c_->http_port(r));
  auto health = http_request(base + "/health", "");
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("\"state\":\"stopped\""), std::string::npos) << health.body;
  EXPECT_NE(http_request(base + "/liveness", "").body.find("\"state\":\"stopped\""), std::string::npos);

  // Resumed: the sidecar starts it, and the down record goes once it serves.
  control(primary_, "SELECT pg_ha.resume()");
  ASSERT_TRUE(c_->wait_healthy(c_->size() - 1, kFailoverMs)) << logs();
  EXPECT_TRUE(c_->wait_until([&] { return c_->etcd_value("down/" + name).empty(); }, 10000));
  EXPECT_EQ(value(primary_, "SELECT count(*) FROM pg_ha.members() WHERE reason IS NOT NULL"), "0");
}

}  // namespace
}  // namespace pg_ha::test
