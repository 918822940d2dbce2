// Real faults on loopback (label `faults`, README.md): each node of a 3-node cluster runs as its
// own OS user (pgha_n1..pgha_n3) and a Firewall cuts links by socket owner. Every scenario runs the
// integration suite's recording writer and split-brain watch (tests/integration/fixture.hpp) and
// ends with the same checks:
//   - never two writable lineages (no node writable on an older timeline after one was writable
//     on a newer one, never two on one timeline), and the old primary acknowledged nothing after
//     another node did (finish());
//   - synchronous mode: no acknowledged commit missing on the final primary (finish());
//   - a writable primary again within kRecoverMs (generous: ttl is 5 s in these tests);
//   - after the heal, every other node streams from the primary, both in pg_ha.members() and
//     in pg_stat_wal_receiver, within kHealMs.
// No test asserts speed; measured figures are printed as "[ measured ]" lines.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "firewall.hpp"
#include "fixture.hpp"
#include "harness/http.hpp"
#include "os_users.hpp"

namespace pg_ha::test {
namespace {

constexpr int kRecoverMs = 60000;   // a writable primary again after a fault
constexpr int kHealMs = 120000;     // every node streaming again after the heal (may rewind)
constexpr int kUnhealthyMs = 15000; // a replica cut from its primary no longer looks healthy

const std::vector<std::string> kUsers = {"pgha_n1", "pgha_n2", "pgha_n3"};

// Fast takeover (issue 15) is checked at pg_ha's default timings (ttl 10 s, loop 1 s, fence after
// 2 s): a replica takes over before the old primary's lease could expire.
const char* const kDefaultsSync = R"({"version":1,"synchronous_mode":"on"})";
constexpr int64_t kOldTtlBoundMs = 10000;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

class Faults : public Cluster {
 protected:
  static void SetUpTestSuite() {
    if (!Firewall::available()) return;
    ensure_os_users(kUsers);
  }

  void SetUp() override {
    if (!Firewall::available()) GTEST_SKIP() << "needs root and nftables (nft)";
    fw_ = std::make_unique<Firewall>();
  }
  void TearDown() override {
    Cluster::TearDown();
    fw_.reset();   // the rules go before the cluster does, also after a failed assertion
  }

  // A synchronous 3-node cluster, one OS user per node, a writer running, and a synchronous
  // standby recorded (a fault before that would test bootstrap, not failover).
  void start_sync_cluster(const std::string& config = config_with(R"("synchronous_mode":"on")")) {
    ClusterOptions o;
    o.os_users = kUsers;
    o.config_json = config;
    start(o);
    if (HasFatalFailure()) return;
    start_writer();
    ASSERT_TRUE(c_->wait_until([&] { return sync_recorded(primary_); }, kFailoverMs)) << logs();
    etcd_port_ = std::stoi(c_->etcd().endpoint(0).substr(c_->etcd().endpoint(0).rfind(':') + 1));
  }
  bool sync_recorded(int primary) const {
    std::string set = value(primary, "SELECT sync_standbys FROM pg_ha.cluster()");
    if (set.find("node") == std::string::npos || set.find(c_->name(primary)) != std::string::npos) return false;
    return !c_->show(primary, "synchronous_standby_names").empty();
  }

  // --- cuts ---
  void cut_from_etcd(int i) { fw_->cut(c_->os_user(i), etcd_port_); }
  // Both directions between two nodes: PostgreSQL (streaming, pg_rewind) and the sidecars' HTTP.
  void cut_between(int i, int j) {
    for (auto [from, to] : {std::pair{i, j}, std::pair{j, i}}) {
      fw_->cut(c_->os_user(from), c_->port(to));
      fw_->cut(c_->os_user(from), c_->http_port(to));
    }
  }
  void cut_from_peers(int i) {
    for (int j = 0; j < c_->size(); ++j) if (j != i) cut_between(i, j);
  }
  void isolate(int i) {
    cut_from_etcd(i);
    cut_from_peers(i);
  }
  void begin_fault(int old_primary) {
    old_primary_ = old_primary;
    fault_ms_ = monotonic_ms();
  }

  // The primary first: the fault starts when its postmaster is seen dead (what it acknowledged
  // until then was legitimate), then the replicas, each node whole (sidecar, postmaster, backends).
  void kill_every_node() {
    old_primary_ = primary_;
    killed_old_primary_ = true;
    fault_ms_ = c_->kill_node(primary_);
    for (int i = 0; i < c_->size(); ++i) if (i != primary_) c_->kill_node(i);
  }

  // --- checks ---
  // Once a new primary acknowledged a commit sent after it was found: the outage stays under the
  // old ttl bound (a loose check that the replicas did not wait for the lease, not a speed test).
  void expect_outage_under_old_ttl() {
    ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
    int64_t outage = outage_ms(fault_ms_);
    std::printf("[ measured ] %s: write outage %lld ms (old ttl bound %lld ms)\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(), static_cast<long long>(outage),
                static_cast<long long>(kOldTtlBoundMs));
    EXPECT_LT(outage, kOldTtlBoundMs) << "the replicas waited for the lease to expire\n" << logs();
  }
  std::optional<int> expect_writable_primary(int timeout_ms = kRecoverMs) {
    std::optional<int> p;
    bool ok = c_->wait_until([&] { p = c_->writable_primary(); return p.has_value(); }, timeout_ms);
    EXPECT_TRUE(ok) << "no writable primary within " << timeout_ms / 1000 << " s\n" << fw_->list() << logs();
    return ok ? p : std::nullopt;
  }
  // After the heal: a primary, everyone streaming from it, writes flowing; then finish()'s checks.
  void expect_recovered_and_finish() {
    std::optional<int> healed = wait_all_streaming(kHealMs);
    ASSERT_TRUE(healed) << "not every node streams again " << kHealMs / 1000 << " s after the heal\n" << logs();
    int primary = *healed;
    ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
    std::printf("[ measured ] %s: write outage %lld ms\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                static_cast<long long>(outage_ms(fault_ms_)));
    finish(primary, true);
  }

  std::unique_ptr<Firewall> fw_;
  int etcd_port_ = 0;
};

// The primary loses etcd and both peers at once: it fences, its lease expires, a replica takes
// over; after the heal the old primary rejoins as a replica of the new one.
TEST_F(Faults, PrimaryIsolated) {
  PG_HA_LONG_ONLY();
  start_sync_cluster();
  int old = primary_;
  begin_fault(old);
  isolate(old);
  auto np = wait_new_primary(old, kRecoverMs);
  ASSERT_TRUE(np) << fw_->list() << logs();
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  EXPECT_FALSE(value(old, "SELECT ok FROM pg_ha.health_primary()") == "t") << "the cut-off old primary must stay fenced";
  fw_->heal();
  expect_recovered_and_finish();
}

// The primary loses etcd only (its replicas still reach it): the same outcome, and the replicas
// must leave the old primary for the new one although they can still stream from it.
TEST_F(Faults, PrimaryCutFromEtcdOnly) {
  PG_HA_LONG_ONLY();
  start_sync_cluster();
  int old = primary_;
  begin_fault(old);
  cut_from_etcd(old);
  auto np = wait_new_primary(old, kRecoverMs);
  ASSERT_TRUE(np) << fw_->list() << logs();
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  fw_->heal();
  expect_recovered_and_finish();
}

// Issue 15 at the defaults: the isolated primary's lease falls silent in etcd, and a replica takes
// over once etcd shows it silent past the primary's own fence window, before the lease expires.
TEST_F(Faults, FastTakeoverWhenThePrimaryIsIsolated) {
  start_sync_cluster(kDefaultsSync);
  int old = primary_;
  begin_fault(old);
  isolate(old);
  ASSERT_TRUE(wait_new_primary(old, kRecoverMs)) << fw_->list() << logs();
  expect_outage_under_old_ttl();
  EXPECT_FALSE(value(old, "SELECT ok FROM pg_ha.health_primary()") == "t") << "the cut-off old primary must stay fenced";
  fw_->heal();
  expect_recovered_and_finish();
}

// The same with only etcd cut: the old primary still streams to its replicas, which must leave it.
TEST_F(Faults, FastTakeoverWhenThePrimaryIsCutFromEtcdOnly) {
  PG_HA_LONG_ONLY();
  start_sync_cluster(kDefaultsSync);
  int old = primary_;
  begin_fault(old);
  cut_from_etcd(old);
  ASSERT_TRUE(wait_new_primary(old, kRecoverMs)) << fw_->list() << logs();
  expect_outage_under_old_ttl();
  fw_->heal();
  expect_recovered_and_finish();
}

// Regression test for issue 14 item 1: every node is killed, and only the two former replicas
// come back. Their workers start before recovery has set the replay position; they used to file
// election reports at 0/0, were judged far behind and never reported again: no primary, forever.
TEST_F(Faults, WholeClusterCrashWithoutTheOldPrimary) {
  start_sync_cluster();
  int old = primary_;
  kill_every_node();
  sleep_ms(7000);   // longer than the ttl (5 s): every lease and the leader key are gone
  for (int i = 0; i < c_->size(); ++i) if (i != old) c_->start_node(i);
  auto np = expect_writable_primary();
  ASSERT_TRUE(np);
  EXPECT_NE(*np, old);
  c_->start_node(old);
  expect_recovered_and_finish();
}

TEST_F(Faults, WholeClusterCrashWithTheOldPrimary) {
  PG_HA_LONG_ONLY();
  PG_HA_LONG_ONLY();
  start_sync_cluster();
  kill_every_node();
  sleep_ms(7000);
  for (int i = 0; i < c_->size(); ++i) c_->start_node(i);
  ASSERT_TRUE(expect_writable_primary());
  expect_recovered_and_finish();
}

// Primary <-> replicas cut, everyone reaches etcd: the primary keeps its lease and nobody may be
// promoted beside it; writes go on (non-strict synchronous mode drops the unreachable standby).
// Issue 14 item 4: the cut-off replicas must stop looking healthy (they stayed `streaming` in
// members() and /replica answered 200 for 20-30 s while falling behind): both say so within
// kUnhealthyMs, a generous bound for wal_receiver_timeout (5 s) and one worker loop.
TEST_F(Faults, PartialPartition) {
  start_sync_cluster();
  int old = primary_;
  begin_fault(old);
  cut_from_peers(old);
  for (int r = 0; r < c_->size(); ++r) {
    if (r == old) continue;
    std::string sql = "SELECT state FROM pg_ha.members() WHERE name = '" + c_->name(r) + "'";
    std::string url = "http://127.0.0.1:" + std::to_string(c_->http_port(r)) + "/replica";
    bool unhealthy = c_->wait_until([&] {
      return value(r, sql) != "streaming" && http_request(url, "").status == 503;
    }, kUnhealthyMs);
    EXPECT_TRUE(unhealthy) << c_->name(r) << " still looks healthy " << kUnhealthyMs / 1000
                           << " s after losing its primary: members() says " << value(r, sql) << ", /replica "
                           << http_request(url, "").status << " " << http_request(url, "").body;
  }
  sleep_ms(10000);   // two ttls in all: long enough for a wrong promotion to show
  ASSERT_TRUE(expect_writable_primary());
  fw_->heal();
  expect_recovered_and_finish();
}

// The only etcd member crashes and comes back: the primary fences meanwhile, nobody is promoted,
// and the cluster carries on.
TEST_F(Faults, EtcdStoppedAndResumed) {
  PG_HA_LONG_ONLY();
  start_sync_cluster();
  begin_fault(primary_);
  c_->etcd().kill9(0);
  sleep_ms(8000);
  EXPECT_FALSE(c_->writable_primary().has_value()) << "no primary may accept writes while etcd is gone";
  c_->etcd().start(0);
  ASSERT_TRUE(expect_writable_primary());
  expect_recovered_and_finish();
}

// The primary's links flap: isolated for 3 s, back for 3 s, four times (shorter and longer than
// the fence delay, never longer than the ttl), then whole.
TEST_F(Faults, PartitionsThatFlap) {
  PG_HA_LONG_ONLY();
  start_sync_cluster();
  begin_fault(primary_);
  // Leadership may move and come back here: the old primary's later acknowledgements can be
  // legitimate, so the one-writer check is the split-brain watch's (and no loss) alone.
  old_primary_ = -1;
  for (int round = 0; round < 4; ++round) {
    isolate(primary_);
    sleep_ms(3000);
    fw_->heal();
    sleep_ms(3000);
  }
  // The same flapping, long enough each time for a failover to start.
  for (int round = 0; round < 2; ++round) {
    auto p = c_->writable_primary();
    isolate(p ? *p : primary_);
    sleep_ms(7000);
    fw_->heal();
    sleep_ms(2000);
  }
  ASSERT_TRUE(expect_writable_primary());
  expect_recovered_and_finish();
}

}  // namespace
}  // namespace pg_ha::test
