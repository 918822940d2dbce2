// Faults of the link between the primary and etcd, and of etcd itself (issue 14 items 2 and 6),
// with real processes (README.md): a slow link through a delaying proxy (delay_proxy.hpp), and a
// 3-member etcd whose members run as their own OS users (pgha_e1..pgha_e3), so that a firewall can
// cut one member off from the other two. Each scenario runs the recording writer and the
// split-brain watch (tests/integration/fixture.hpp) and ends with the checks of fault_test.cpp:
// never two writable lineages, the old primary acknowledged nothing after another node did, no
// acknowledged commit lost (synchronous mode), a writable primary within a generous bound, every
// node streaming after the heal. Outages are printed as "[ measured ]" lines, never asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "delay_proxy.hpp"
#include "firewall.hpp"
#include "fixture.hpp"
#include "os_users.hpp"

namespace pg_ha::test {
namespace {

constexpr int kRecoverMs = 60000;   // a writable primary again after a fault
constexpr int kHealMs = 120000;     // every node streaming again after the heal (may rewind)

const std::vector<std::string> kNodeUsers = {"pgha_n1", "pgha_n2", "pgha_n3"};
const std::vector<std::string> kEtcdUsers = {"pgha_e1", "pgha_e2", "pgha_e3"};

// pg_ha's default timings (ttl 10 s, loop 1 s, fence after 2 s, etcd_timeout_ms 1 s): the
// figures of issue 14 were seen with them.
const char* const kDefaultsSync = R"({"version":1,"synchronous_mode":"on"})";

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

class EtcdLinks : public Cluster {
 protected:
  static void SetUpTestSuite() {
    if (!Firewall::available()) return;
    ensure_os_users(kNodeUsers);
    ensure_os_users(kEtcdUsers);
  }
  void SetUp() override {
    if (!Firewall::available()) GTEST_SKIP() << "needs root and nftables (nft)";
    fw_ = std::make_unique<Firewall>();
  }
  void TearDown() override {
    Cluster::TearDown();
    fw_.reset();        // the rules go before the cluster does, also after a failed assertion
    c_.reset();         // the nodes before their proxies
    proxies_.clear();
  }

  // A synchronous 3-node cluster at the default timings, writer running, a synchronous standby
  // recorded. With `proxied`, node i reaches etcd only through proxies_[i] (no delay yet).
  void start_cluster(ClusterOptions o, bool proxied) {
    o.os_users = kNodeUsers;
    o.config_json = kDefaultsSync;
    if (proxied) {
      o.node_etcd_endpoints = [this](int node, const EtcdCluster& etcd) {
        if (static_cast<int>(proxies_.size()) <= node) proxies_.resize(node + 1);
        proxies_[node] = std::make_unique<DelayProxy>(etcd.client_port(0));
        return std::vector<std::string>{"http://127.0.0.1:" + std::to_string(proxies_[node]->port())};
      };
    }
    start(o);
    if (HasFatalFailure()) return;
    start_writer();
    ASSERT_TRUE(c_->wait_until([&] { return sync_recorded(primary_); }, kFailoverMs)) << logs();
  }
  // A 3-member etcd (each member its own OS user, etcd's default heartbeat and election timeout),
  // node i configured with member i first: its "local" member, as when etcd runs on the nodes.
  ClusterOptions three_member_etcd(bool pre_vote) {
    ClusterOptions o;
    o.etcd.members = 3;
    o.etcd.os_users = kEtcdUsers;
    o.etcd.heartbeat_ms = 100;
    o.etcd.election_ms = 1000;
    if (pre_vote) o.etcd.extra_args = {"--pre-vote"};
    o.node_etcd_endpoints = [](int node, const EtcdCluster& etcd) {
      std::vector<std::string> e;
      for (int k = 0; k < etcd.size(); ++k) e.push_back(etcd.endpoint((node + k) % etcd.size()));
      return e;
    };
    return o;
  }
  bool sync_recorded(int primary) const {
    std::string set = value(primary, "SELECT sync_standbys FROM pg_ha.cluster()");
    if (set.find("node") == std::string::npos || set.find(c_->name(primary)) != std::string::npos) return false;
    return !c_->show(primary, "synchronous_standby_names").empty();
  }

  // etcd member m loses the other two (raft traffic, both directions); clients still reach it.
  void cut_member_off(int m) {
    EtcdCluster& etcd = c_->etcd();
    for (int k = 0; k < etcd.size(); ++k) {
      if (k == m) continue;
      fw_->cut(kEtcdUsers[m], etcd.peer_port(k));
      fw_->cut(kEtcdUsers[k], etcd.peer_port(m));
    }
  }
  // Node i reaches no etcd member but m.
  void reach_only_member(int i, int m) {
    for (int k = 0; k < c_->etcd().size(); ++k) if (k != m) fw_->cut(c_->os_user(i), c_->etcd().client_port(k));
  }
  void begin_fault(int old_primary) {
    old_primary_ = old_primary;
    fault_ms_ = monotonic_ms();
  }

  // After the heal: a primary, everyone streaming from it, writes flowing; then finish()'s checks.
  void expect_recovered_and_finish() {
    std::optional<int> healed = wait_all_streaming(kHealMs);
    ASSERT_TRUE(healed) << "not every node streams again " << kHealMs / 1000 << " s after the heal\n" << logs();
    int primary = *healed;
    ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
    finish(primary, true);
  }
  void print_outage(const char* what, int64_t from_ms, int64_t to_ms) const {
    std::printf("[ measured ] %s: %s: longest write outage %lld ms\n", test_name().c_str(), what,
                static_cast<long long>(outage_ms(from_ms, to_ms)));
    std::fflush(stdout);
  }

  std::unique_ptr<Firewall> fw_;
  std::vector<std::unique_ptr<DelayProxy>> proxies_;
};

// Issue 14 item 2: every message between the primary and etcd is delayed, so that each round trip
// takes longer than etcd_timeout_ms (1 s) and the primary's fence window; the late keep-alives
// still reach etcd. The primary must not keep the lease alive with them: a replica takes over
// while the link is still slow, and the old primary rejoins once it is fast again.
TEST_F(EtcdLinks, SlowEtcdLink) {
  start_cluster(ClusterOptions{}, true);
  if (HasFatalFailure()) return;
  int old = primary_;
  ASSERT_GT(proxies_[old]->chunks(), 0) << "the primary's etcd traffic does not go through its proxy";
  constexpr int kDelayMs = 700;   // one way: a round trip of 1.4 s and more
  constexpr int kSlowForMs = 30000;
  begin_fault(old);
  proxies_[old]->set_delay_ms(kDelayMs);
  auto np = wait_new_primary(old, kSlowForMs);
  int64_t took = monotonic_ms() - fault_ms_;
  std::printf("[ measured ] %s: a replica writable %lld ms after the link slowed (%s)\n", test_name().c_str(),
              static_cast<long long>(took), np ? "took over" : "none while the link was slow");
  ASSERT_TRUE(np) << "no replica took over within " << kSlowForMs / 1000 << " s of a slow etcd link\n" << logs();
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  print_outage("while the link was slow", fault_ms_, monotonic_ms());
  int64_t left = fault_ms_ + kSlowForMs - monotonic_ms();
  if (left > 0) sleep_ms(static_cast<int>(left));
  EXPECT_NE(value(old, "SELECT ok FROM pg_ha.health_primary()"), "t") << "the old primary must stay fenced";
  proxies_[old]->set_delay_ms(0);
  expect_recovered_and_finish();
}

// Issue 14 item 6 (a): the etcd member the primary prefers is cut off from the other two, then
// rejoins. The primary's requests move to the members that still have a leader; with --pre-vote
// the rejoining member does not disrupt the cluster. The primary keeps serving or hands over.
TEST_F(EtcdLinks, PrimarysEtcdMemberCutOffAndRejoining) {
  PG_HA_LONG_ONLY();
  start_cluster(three_member_etcd(true), false);
  if (HasFatalFailure()) return;
  int old = primary_;
  begin_fault(old);
  old_primary_ = -1;   // it may legitimately keep leading: the one-writer check is the watch's
  cut_member_off(old);
  sleep_ms(15000);
  print_outage("while its etcd member was cut off", fault_ms_, monotonic_ms());
  int64_t healed = monotonic_ms();
  fw_->heal();
  sleep_ms(15000);
  print_outage("after the member rejoined", healed, monotonic_ms());
  ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary().has_value(); }, kRecoverMs)) << logs();
  expect_recovered_and_finish();
}

// Issue 14 item 6 (b): the primary reaches only a member that is cut off from the other two (a
// minority, which answers "no leader" or nothing): it must fence, and a replica, which reaches the
// majority, takes over. After the heal the old primary rejoins as a replica.
TEST_F(EtcdLinks, PrimaryReachesOnlyACutOffEtcdMember) {
  PG_HA_LONG_ONLY();
  start_cluster(three_member_etcd(true), false);
  if (HasFatalFailure()) return;
  int old = primary_;
  begin_fault(old);
  reach_only_member(old, old);
  cut_member_off(old);
  auto np = wait_new_primary(old, kRecoverMs);
  ASSERT_TRUE(np) << fw_->list() << logs();
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  print_outage("until a replica took over", fault_ms_, monotonic_ms());
  EXPECT_NE(value(old, "SELECT ok FROM pg_ha.health_primary()"), "t") << "the old primary must stay fenced";
  fw_->heal();
  expect_recovered_and_finish();
}

// Issue 14 item 6 (c): an etcd member cut off for a while rejoins an etcd run without --pre-vote
// (etcd 3.4's default): its higher raft term forces an election, during which no member can
// renew a lease. The primary may fence for its duration but must never leave two writers.
TEST_F(EtcdLinks, EtcdMemberRejoinsWithoutPreVote) {
  PG_HA_LONG_ONLY();
  start_cluster(three_member_etcd(false), false);
  if (HasFatalFailure()) return;
  int old = primary_;
  begin_fault(old);
  old_primary_ = -1;   // it may legitimately keep leading: the one-writer check is the watch's
  // etcd's leader, unless it is the primary's own member (that is the scenario above): the other
  // two elect a new leader now, and the cut-off one disrupts them when it rejoins.
  int member = c_->etcd().leader_index();
  if (member < 0 || member == old) member = (old + 1) % 3;
  std::printf("[ measured ] %s: cutting off etcd member %d (leader: %d)\n", test_name().c_str(), member,
              c_->etcd().leader_index());
  int64_t cut_ms = monotonic_ms();
  cut_member_off(member);
  sleep_ms(10000);
  int64_t healed = monotonic_ms();
  print_outage("while the member was cut off", cut_ms, healed);
  fw_->heal();
  sleep_ms(10000);
  print_outage("after the member rejoined", healed, monotonic_ms());
  ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary().has_value(); }, kRecoverMs)) << logs();
  expect_recovered_and_finish();
}

}  // namespace
}  // namespace pg_ha::test
