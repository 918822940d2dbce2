// End-to-end: real etcd, real PostgreSQL 15 with pg_ha preloaded, real sidecars, on loopback.
// Every fault runs under a writer that records acknowledged commits; every test checks that
// never two nodes were writable at once and reports acknowledged-but-missing rows.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <thread>

#include "cluster.hpp"
#include "writer.hpp"

namespace pg_ha::test {
namespace {

constexpr int kStartMs = 90000;
constexpr int kFailoverMs = 60000;

// Polls every node's health_primary() and remembers the largest number writable in one sweep.
class SplitBrainWatch {
 public:
  explicit SplitBrainWatch(const PgHaCluster& c) : c_(c), thread_([this] { run(); }) {}
  ~SplitBrainWatch() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int max_writable() const { return max_; }

 private:
  void run() {
    while (!stop_) {
      max_ = std::max(max_.load(), c_.count_writable());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const PgHaCluster& c_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_{0};
  std::thread thread_;
};

class Cluster : public ::testing::Test {
 protected:
  void start(ClusterOptions o = {}) {
    c_ = std::make_unique<PgHaCluster>(o);
    auto p = c_->wait_healthy(c_->size() - 1, kStartMs);
    ASSERT_TRUE(p) << logs();
    primary_ = *p;
    auto r = c_->query(primary_, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN "
                                 "CREATE ROLE app LOGIN PASSWORD 'it-app'; END IF; END $$; GRANT ALL ON SCHEMA public TO app");
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  void start_writer() {
    writer_ = std::make_unique<Writer>(c_->multi_host_conninfo(), c_->conninfo(primary_));
    watch_ = std::make_unique<SplitBrainWatch>(*c_);
    ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().size() > 20; }, 20000)) << logs();
  }
  // Stops the workload and checks the invariants every fault test shares.
  void finish(int primary, bool expect_no_loss) {
    writer_->stop();
    watch_->stop();
    EXPECT_LE(watch_->max_writable(), 1) << "two nodes were writable at once";
    auto missing = writer_->missing_on(c_->conninfo(primary));
    std::printf("[ measured ] %zu commits acknowledged, %zu acknowledged but missing, write outage %lld ms\n",
                writer_->acks().size(), missing.size(), static_cast<long long>(writer_->largest_gap_ms(fault_ms_)));
    if (expect_no_loss) {
      EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged rows are missing";
    }
  }
  std::string logs() const {
    std::string out;
    for (int i = 0; c_ && i < c_->size(); ++i) out += c_->logs(i) + "\n";
    return out;
  }
  std::string name_of_primary() {
    auto r = c_->query(primary_, "SELECT leader FROM pg_ha.cluster()");
    return r.ok() && !r->empty() ? (*r)[0][0] : "";
  }

  std::unique_ptr<PgHaCluster> c_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<SplitBrainWatch> watch_;
  int primary_ = -1;
  int64_t fault_ms_ = 0;
};

TEST_F(Cluster, BootstrapsOnePrimaryAndTwoStreamingReplicas) {
  start();
  ASSERT_TRUE(c_->query(primary_, "CREATE TABLE boot (v int); INSERT INTO boot VALUES (42)").ok());
  for (int i = 0; i < c_->size(); ++i) {
    if (i == primary_) continue;
    EXPECT_TRUE(c_->wait_until([&] {
      auto r = c_->query(i, "SELECT v FROM boot");
      return r.ok() && !r->empty() && (*r)[0][0] == "42";
    }, 20000)) << c_->name(i) << " did not receive the row\n" << logs();
  }
  auto members = c_->query(primary_, "SELECT count(*) FROM pg_ha.members()");
  ASSERT_TRUE(members.ok());
  EXPECT_EQ((*members)[0][0], "3");
}

TEST_F(Cluster, PostmasterKillIsRestartedInPlace) {
  start();
  start_writer();
  fault_ms_ = monotonic_ms();
  c_->kill_postmaster(primary_);
  ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().back().at_ms > fault_ms_ + 500; }, kFailoverMs)) << logs();
  auto p = c_->writable_primary();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, primary_) << "with the default primary_start_timeout the primary restarts in place";
  finish(*p, false);
}

TEST_F(Cluster, PostmasterKillWithZeroStartTimeoutFailsOver) {
  ClusterOptions o;
  o.config_json = R"({"version":1,"ttl":5,"loop_wait_ms":500,"fence_after_ms":1500,"fence_margin_ms":500,)"
                  R"("election_wait_ms":500,"primary_start_timeout":0})";
  start(o);
  start_writer();
  fault_ms_ = monotonic_ms();
  c_->kill_postmaster(primary_);
  std::optional<int> p;
  ASSERT_TRUE(c_->wait_until([&] { p = c_->writable_primary(); return p && *p != primary_; }, kFailoverMs)) << logs();
  ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().back().at_ms > fault_ms_ + 500; }, kFailoverMs));
  // The old primary comes back as a replica of the new one.
  EXPECT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000).has_value(); }, kFailoverMs)) << logs();
  finish(*p, false);
}

TEST_F(Cluster, WholeNodeKillPromotesAReplicaAndTheOldNodeRejoins) {
  start();
  start_writer();
  fault_ms_ = monotonic_ms();
  c_->kill_node(primary_);
  std::optional<int> p;
  ASSERT_TRUE(c_->wait_until([&] { p = c_->writable_primary(); return p && *p != primary_; }, kFailoverMs)) << logs();
  ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().back().at_ms > fault_ms_ + 500; }, kFailoverMs));
  // The surviving replica follows the new primary without a restart.
  EXPECT_TRUE(c_->wait_healthy(1, kFailoverMs)) << logs();
  c_->start_node(primary_);
  EXPECT_TRUE(c_->wait_healthy(2, kFailoverMs)) << "the old primary did not rejoin\n" << logs();
  auto h = c_->query(*p, "SELECT count(*) FROM pg_ha.history() WHERE reason = 'failover'");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)[0][0], "1");
  finish(*p, false);
}

TEST_F(Cluster, SwitchoverToANamedReplicaAndClearErrors) {
  start();
  int target = (primary_ + 1) % c_->size();
  auto bad = c_->query(primary_, "SELECT pg_ha.switchover('nosuchnode')");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown member"), std::string::npos) << bad.error().message;
  auto self = c_->query(primary_, "SELECT pg_ha.switchover('" + c_->name(primary_) + "')");
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("already the primary"), std::string::npos) << self.error().message;
  start_writer();
  fault_ms_ = monotonic_ms();
  auto ok = c_->query(primary_, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary() == target; }, kFailoverMs)) << logs();
  ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().back().at_ms > fault_ms_ + 200; }, kFailoverMs));
  EXPECT_TRUE(c_->wait_healthy(2, kFailoverMs)) << "the old primary did not become a replica\n" << logs();
  finish(target, true);  // a planned switchover loses nothing
}

TEST_F(Cluster, EtcdOutageFencesThePrimaryWhichResumesOnTheSameTimeline) {
  start();
  auto tl = c_->query(primary_, "SELECT timeline FROM pg_ha.node_status()");
  ASSERT_TRUE(tl.ok());
  start_writer();
  fault_ms_ = monotonic_ms();
  c_->etcd().kill9(0);
  // Writes stop while etcd is gone (the gate closes by itself), and nobody else is promoted.
  ASSERT_TRUE(c_->wait_until([&] { return !c_->writable_primary().has_value(); }, 10000)) << logs();
  std::this_thread::sleep_for(std::chrono::seconds(7));  // longer than the ttl (5 s)
  size_t acks_during = writer_->acks().size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(writer_->acks().size(), acks_during) << "a commit was acknowledged while etcd was down";
  c_->etcd().start(0);
  ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary() == primary_; }, kFailoverMs)) << logs();
  auto tl2 = c_->query(primary_, "SELECT timeline FROM pg_ha.node_status()");
  ASSERT_TRUE(tl2.ok());
  EXPECT_EQ((*tl2)[0][0], (*tl)[0][0]) << "no promotion, no new timeline";
  ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().back().at_ms > monotonic_ms() - 1000; }, kFailoverMs));
  finish(primary_, true);
}

TEST_F(Cluster, PauseBlocksAutomaticFailoverUntilResumed) {
  start();
  ASSERT_TRUE(c_->query(primary_, "SELECT pg_ha.pause()").ok());
  int observer = (primary_ + 1) % c_->size();
  c_->kill_node(primary_);
  std::this_thread::sleep_for(std::chrono::seconds(9));  // ttl 5 s + election time
  EXPECT_FALSE(c_->writable_primary().has_value()) << "promoted while paused";
  auto paused = c_->query(observer, "SELECT paused FROM pg_ha.cluster()");
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ((*paused)[0][0], "t");
  ASSERT_TRUE(c_->query(observer, "SELECT pg_ha.resume()").ok());
  ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary().has_value(); }, kFailoverMs)) << logs();
}

}  // namespace
}  // namespace pg_ha::test
