// Cluster config validation: each timing rule is enforced and named, and the write deadline never
// reaches past the part of the lease that is safe under drift and margin.
#include <gtest/gtest.h>

#include <cstdlib>

#include <cmath>
#include <string>

#include "core/config.hpp"
#include "core/sync_names.hpp"

namespace pg_ha::core {
namespace {

void expect_rule(const ClusterConfig& c, const std::string& rule) {
  Status s = validate_cluster_config(c);
  ASSERT_FALSE(s.ok()) << "expected rule \"" << rule << "\" to reject";
  EXPECT_NE(s.error().message.find("\"" + rule + "\""), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().kind, ErrorKind::Invalid);
}

TEST(Config, DefaultsValidate) {
  Status s = validate_cluster_config(ClusterConfig{});
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST(Config, DefaultsSurviveAnEmptyDocument) {
  auto c = parse_cluster_config(R"({"version":1})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(encode_cluster_config(*c), encode_cluster_config(ClusterConfig{}));
}

TEST(Config, FenceBeforeLeaseExpiry) {
  ClusterConfig c;
  c.ttl_s = 2;             // 2000 * 0.99 / 1.01 - 1000 = 960 ms usable
  c.fence_margin_ms = 1000;
  c.loop_wait_ms = 1000;
  c.fence_after_ms = 1500;
  expect_rule(c, "fence before lease expiry");
  c.fence_margin_ms = 500;  // 1460 ms usable > loop_wait
  EXPECT_TRUE(validate_cluster_config(c).ok()) << validate_cluster_config(c).error().message;
}

TEST(Config, FenceBeforeLeaseExpiryCountsTheDrift) {
  ClusterConfig c;
  c.ttl_s = 3;
  c.loop_wait_ms = 1000;
  c.fence_margin_ms = 900;
  c.max_clock_drift = 0;       // 3000 - 900 = 2100 usable
  EXPECT_TRUE(validate_cluster_config(c).ok());
  c.max_clock_drift = 0.099;   // 3000 * 0.901 / 1.099 - 900 = 1559 usable, still fine
  EXPECT_TRUE(validate_cluster_config(c).ok());
  c.fence_margin_ms = 1500;    // 1559 + 900 - 1500 = 959 < loop_wait
  expect_rule(c, "fence before lease expiry");
}

TEST(Config, FenceAfterAMissedKeepAlive) {
  ClusterConfig c;
  c.fence_after_ms = c.loop_wait_ms;
  expect_rule(c, "fence after a missed keep-alive");
  c.fence_after_ms = c.loop_wait_ms + 1;
  EXPECT_TRUE(validate_cluster_config(c).ok());
}

// F23: the primary's keep-alive comes every loop_wait_ms, but at least twice per fence window.
TEST(Config, LeaderKeepAliveIntervalLeavesHalfTheWindowForTheAnswer) {
  ClusterConfig c;
  EXPECT_EQ(leader_keepalive_interval_ms(c), 1000);   // defaults: 1000 / 2000
  c.fence_after_ms = 1200;
  EXPECT_EQ(leader_keepalive_interval_ms(c), 600);
  c.loop_wait_ms = 233;
  c.fence_after_ms = 273;
  EXPECT_EQ(leader_keepalive_interval_ms(c), 136);
  c.fence_after_ms = 9000;
  EXPECT_EQ(leader_keepalive_interval_ms(c), 233);
}

TEST(Config, KeepAlivesPerLease) {
  ClusterConfig c;
  c.ttl_s = 10;
  c.loop_wait_ms = 6000;
  c.fence_after_ms = 7000;
  c.fence_margin_ms = 0;
  expect_rule(c, "keep-alives per lease");
  c.loop_wait_ms = 5000;
  EXPECT_TRUE(validate_cluster_config(c).ok()) << validate_cluster_config(c).error().message;
}

TEST(Config, ElectionWaitShorterThanTtl) {
  ClusterConfig c;
  c.election_wait_ms = c.ttl_s * 1000;
  expect_rule(c, "election wait");
}

TEST(Config, SwitchoverTimeoutAtLeastOneLoop) {
  ClusterConfig c;
  c.switchover_timeout_ms = c.loop_wait_ms - 1;
  expect_rule(c, "switchover timeout");
}

TEST(Config, Ranges) {
  ClusterConfig c;
  c.ttl_s = 1;
  expect_rule(c, "ttl range");
  c = ClusterConfig{};
  c.ttl_s = 3601;
  expect_rule(c, "ttl range");
  c = ClusterConfig{};
  c.loop_wait_ms = 99;
  expect_rule(c, "loop_wait range");
  c = ClusterConfig{};
  c.max_clock_drift = 0.1;
  expect_rule(c, "drift range");
  c.max_clock_drift = -0.001;
  expect_rule(c, "drift range");
  c = ClusterConfig{};
  c.synchronous_node_count = 0;
  expect_rule(c, "sync count");
}

TEST(Config, ManagedAndMalformedParametersAreRefused) {
  ClusterConfig c;
  c.postgresql_parameters["synchronous_standby_names"] = "*";
  expect_rule(c, "managed parameter");
  c.postgresql_parameters = {{"pg_ha.key_prefix", "/x"}};
  expect_rule(c, "managed parameter");
  c.postgresql_parameters = {{"work mem", "1MB"}};
  expect_rule(c, "parameter name");
  c.postgresql_parameters = {{"work_mem", "64MB"}, {"auto_explain.log_min_duration", "1s"}};
  EXPECT_TRUE(validate_cluster_config(c).ok());
}

TEST(Config, UnknownKeyRejected) {
  auto r = parse_cluster_config(R"({"version":1,"ttl_s":10})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown config key \"ttl_s\""), std::string::npos) << r.error().message;
}

TEST(Config, NewerSchemaVersionIsRefused) {
  // A config written by a newer pg_ha ({"version":2,...}) is refused rather than half understood
  // (docs/keys.md), as every other record is.
  auto r = parse_cluster_config(R"({"version":2,"ttl":10})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse_cluster_config(R"({"version":"1"})").ok());
}

TEST(Config, ParsesEveryKnob) {
  auto r = parse_cluster_config(R"({"version":1,"ttl":20,"loop_wait_ms":500,"fence_after_ms":1200,
      "fence_margin_ms":800,"max_clock_drift":0.02,"election_wait_ms":700,"switchover_timeout_ms":4000,
      "maximum_lag_on_failover":0,"primary_start_timeout":0,"synchronous_mode":"quorum",
      "synchronous_mode_strict":true,"synchronous_node_count":2,"maximum_lag_on_syncnode":1024,
      "postgresql":{"parameters":{"work_mem":"4MB","max_connections":100,"jit":false}}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ttl_s, 20);
  EXPECT_EQ(r->loop_wait_ms, 500);
  EXPECT_EQ(r->fence_after_ms, 1200);
  EXPECT_EQ(r->fence_margin_ms, 800);
  EXPECT_DOUBLE_EQ(r->max_clock_drift, 0.02);
  EXPECT_EQ(r->election_wait_ms, 700);
  EXPECT_EQ(r->switchover_timeout_ms, 4000);
  EXPECT_EQ(r->maximum_lag_on_failover, 0);
  EXPECT_EQ(r->primary_start_timeout_s, 0);
  EXPECT_EQ(r->synchronous_mode, SyncMode::Quorum);
  EXPECT_TRUE(r->synchronous_mode_strict);
  EXPECT_EQ(r->synchronous_node_count, 2);
  EXPECT_EQ(r->maximum_lag_on_syncnode, 1024);
  EXPECT_EQ(r->postgresql_parameters.at("max_connections"), "100");
  EXPECT_EQ(r->postgresql_parameters.at("jit"), "false");
  EXPECT_TRUE(validate_cluster_config(*r).ok()) << validate_cluster_config(*r).error().message;
}

TEST(WriteDeadline, DefaultsGiveSentPlusFenceAfter) {
  ClusterConfig c;
  EXPECT_EQ(write_deadline_after_keepalive(c, 0, c.ttl_s), c.fence_after_ms);
  EXPECT_EQ(write_deadline_after_keepalive(c, 123456, c.ttl_s), 123456 + c.fence_after_ms);
}

// issue 12: set_config('{"ttl":60,"fence_after_ms":30000}') while the lease etcd holds was granted
// with ttl 10. etcd expires that lease 10 s after the keep-alive, so the deadline must end before.
TEST(WriteDeadline, BoundByTheGrantedTtlNotTheConfiguredOne) {
  ClusterConfig c;
  c.ttl_s = 60;
  c.fence_after_ms = 30000;
  ASSERT_TRUE(validate_cluster_config(c).ok());
  const TimeMs sent = 1000000;
  TimeMs deadline = write_deadline_after_keepalive(c, sent, 10);
  double safe = 10000.0 * (1 - c.max_clock_drift) / (1 + c.max_clock_drift) - c.fence_margin_ms;
  EXPECT_GT(deadline, sent);
  EXPECT_LE(static_cast<double>(deadline - sent), safe);
  // Once the lease is re-granted with the new ttl, the config's fence_after_ms applies.
  EXPECT_EQ(write_deadline_after_keepalive(c, sent, 60), sent + 30000);
}

// The other way round: ttl lowered while the lease still has the old, longer TTL. The smaller of
// the two bounds the deadline (the operator asked for the shorter window).
TEST(WriteDeadline, BoundByTheConfiguredTtlWhenItIsSmaller) {
  ClusterConfig c;
  c.ttl_s = 3;
  c.fence_after_ms = 100000;
  c.loop_wait_ms = 500;
  c.election_wait_ms = 1000;
  TimeMs with_old_lease = write_deadline_after_keepalive(c, 0, 60);
  EXPECT_EQ(with_old_lease, write_deadline_after_keepalive(c, 0, 3));
  EXPECT_LT(with_old_lease, 3000);
}

TEST(WriteDeadline, UnknownGrantedTtlGivesNoWrites) {
  ClusterConfig c;
  EXPECT_EQ(write_deadline_after_keepalive(c, 123456, 0), 0);
  EXPECT_EQ(write_deadline_after_keepalive(c, 123456, -1), 0);
}

TEST(WriteDeadline, NeverPastTheDriftAndMarginSafeLease) {
  for (int ttl : {2, 3, 5, 10, 30, 120}) {
    for (double rho : {0.0, 0.001, 0.01, 0.05, 0.099}) {
      for (int margin : {0, 100, 500, 1000, 3000}) {
        for (int fence_after : {150, 1000, 2500, 10000, 1000000}) {
          ClusterConfig c;
          c.ttl_s = ttl;
          c.max_clock_drift = rho;
          c.fence_margin_ms = margin;
          c.fence_after_ms = fence_after;
          c.loop_wait_ms = 100;
          const TimeMs sent = 5000000;
          TimeMs deadline = write_deadline_after_keepalive(c, sent, ttl);
          double safe = ttl * 1000.0 * (1 - rho) / (1 + rho) - margin;
          if (safe <= 0) {
            EXPECT_LE(deadline, sent) << "no safe window, yet a future deadline";
            continue;
          }
          EXPECT_LE(static_cast<double>(deadline - sent), safe)
              << "ttl=" << ttl << " rho=" << rho << " margin=" << margin << " fence_after=" << fence_after;
          EXPECT_LE(deadline - sent, fence_after);
          // And it uses the window it may: no more than a millisecond of rounding lost.
          EXPECT_GE(static_cast<double>(deadline - sent), std::min<double>(fence_after, safe) - 1.0);
        }
      }
    }
  }
}

TEST(WriteDeadline, RealTimeWindowEndsBeforeEtcdCanExpireTheLease) {
  // The local window W lasts at most W/(1-rho) real ms on a slow clock; etcd on a fast clock
  // expires the lease no earlier than ttl/(1+rho) real ms after the refresh.
  ClusterConfig c;
  c.fence_after_ms = 1000000;  // let the lease bound decide
  for (double rho : {0.0, 0.01, 0.05, 0.099}) {
    c.max_clock_drift = rho;
    double w = static_cast<double>(write_deadline_after_keepalive(c, 0, c.ttl_s));
    EXPECT_LT(w / (1 - rho), c.ttl_s * 1000.0 / (1 + rho)) << "rho=" << rho;
  }
}

TEST(NodeName, Validation) {
  EXPECT_TRUE(validate_node_name("node-1.dc_a").ok());
  EXPECT_FALSE(validate_node_name("").ok());
  // name@identity-prefix must fit PostgreSQL's 63-byte application_name (F16).
  EXPECT_FALSE(validate_node_name(std::string(55, 'a')).ok());
  EXPECT_TRUE(validate_node_name(std::string(54, 'a')).ok());
  EXPECT_EQ(standby_application_name(std::string(54, 'a'), std::string(32, 'f')).size(), 63u);
  for (const char* bad : {"a b", "a/b", "a\"b", "a,b", "a@b", "é"}) EXPECT_FALSE(validate_node_name(bad).ok()) << bad;
}

}  // namespace
}  // namespace pg_ha::core
