// The fixture every end-to-end test shares: a real cluster (cluster.hpp), a recording writer
// (writer.hpp) running through each fault, a watch that asks every node whether it is writable
// every 50 ms, and the checks every fault test ends with:
//   - never two writable lineages (two_writers.hpp): no node writable on an older timeline after
//     a node was writable on a newer one, never two nodes writable on one timeline;
//   - the old primary acknowledged nothing it should not have: after a kill, no statement sent
//     after the kill on a session opened before it (an orphaned backend); after any node other
//     than the old primary acknowledged a commit, no statement sent later on the old primary;
//   - acknowledged rows missing on the new primary are reported (and, where the test says
//     the scenario loses nothing, asserted to be zero).
// Measured figures are printed as "[ measured ] ..." lines; no test asserts speed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster.hpp"
#include "two_writers.hpp"
#include "writer.hpp"

namespace pg_ha::test {

// The README's test command runs a quick set; PG_HA_LONG=1 (scripts/test.sh passes it through)
// also runs the scenarios marked PG_HA_LONG_ONLY(): variations of a quick test and the slowest
// repeats. tests/README.md lists them and what covers each in the quick set.
inline bool long_run() {
  const char* v = std::getenv("PG_HA_LONG");
  return v && std::string(v) == "1";
}
#define PG_HA_LONG_ONLY() \
  if (!::pg_ha::test::long_run()) GTEST_SKIP() << "long run only (PG_HA_LONG=1)"

constexpr int kStartMs = 90000;
constexpr int kFailoverMs = 60000;

// Short timings, as in every test here: ttl 5 s, a keep-alive every 500 ms, fence after 1.5 s.
inline std::string config_with(const std::string& extra = "") {
  return R"({"version":1,"ttl":5,"loop_wait_ms":500,"fence_after_ms":1500,"fence_margin_ms":500,"election_wait_ms":500)" +
         (extra.empty() ? std::string() : "," + extra) + "}";
}

// Asks every node every 50 ms whether it is writable (health_primary()) and keeps the answers
// that said yes, with their timelines and the instants they were computed between (two_writers()).
class SplitBrainWatch {
 public:
  explicit SplitBrainWatch(const PgHaCluster& c) : c_(c), thread_([this] { run(); }) {}
  ~SplitBrainWatch() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // "" or what shows two writable lineages.
  std::string two_writers_seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return two_writers(samples_);
  }

 private:
  void run() {
    while (!stop_) {
      for (int i = 0; i < c_.size(); ++i) {
        auto s = c_.writable_sample(i);
        std::lock_guard<std::mutex> lock(mu_);
        if (s) samples_.push_back(*s);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const PgHaCluster& c_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<WritableSample> samples_;
  std::thread thread_;
};

class Cluster : public ::testing::Test {
 protected:
  void TearDown() override {
    // Stop the client threads before the cluster goes away (also when an assertion failed).
    if (writer_) writer_->stop();
    if (watch_) watch_->stop();
  }

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
    old_primary_ = primary_;
    ASSERT_TRUE(c_->wait_until([&] { return writer_->acks().size() > 20; }, 20000)) << logs();
  }

  // Faults on the current primary; they also set what finish() checks.
  void kill_primary_postmaster() {
    old_primary_ = primary_;
    killed_old_primary_ = true;
    // The old postmaster's pg_ha worker must not outlive it: an orphan would go on writing
    // etcd and sidecar requests in this node's name (seen once, minutes later).
    for (pid_t pid : c_->postmaster_children(primary_, "pg_ha worker")) orphan_watch_.push_back(pid);
    fault_ms_ = c_->kill_postmaster(primary_);
  }
  // Every worker whose postmaster was killed has exited (checked by finish()).
  void expect_no_orphaned_workers() const {
    for (pid_t pid : orphan_watch_) {
      bool gone = c_->wait_until([&] { return !process_alive(pid); }, 15000);
      EXPECT_TRUE(gone) << "pg_ha worker " << pid << " outlived its killed postmaster";
    }
  }
  static bool process_alive(pid_t pid) {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
    if (!f) return false;
    int read_pid = 0;
    char state = 'X';
    int n = std::fscanf(f, "%d %*s %c", &read_pid, &state);
    std::fclose(f);
    return n == 2 && state != 'Z' && state != 'X';
  }
  void kill_primary_node() {
    old_primary_ = primary_;
    killed_old_primary_ = true;
    fault_ms_ = c_->kill_node(primary_);
  }

  // Acknowledgements the old primary must not have given (see the header comment), among acks
  // that arrived before `until_ms`.
  std::vector<Ack> forbidden_acks(int old_primary, int64_t fault_ms, bool killed, int64_t until_ms) const {
    std::vector<Ack> all = writer_->acks(), out;
    int old_port = c_->port(old_primary);
    int64_t other_acked = std::numeric_limits<int64_t>::max();
    for (const Ack& a : all) {
      if (a.at_ms > fault_ms && a.port != old_port) other_acked = std::min(other_acked, a.at_ms);
    }
    for (const Ack& a : all) {
      if (a.port != old_port || a.at_ms > until_ms) continue;
      bool orphan = killed && a.conn_ms < fault_ms && a.sent_ms > fault_ms;
      bool after_new_primary = a.sent_ms > other_acked;
      if (orphan || after_new_primary) out.push_back(a);
    }
    return out;
  }
  void expect_no_forbidden_acks(int old_primary, int64_t fault_ms, bool killed, int64_t until_ms) const {
    auto bad = forbidden_acks(old_primary, fault_ms, killed, until_ms);
    EXPECT_TRUE(bad.empty()) << bad.size() << " commit(s) acknowledged by the old primary " << c_->name(old_primary)
                             << " that it must have refused; first: id " << bad.front().id << " sent "
                             << bad.front().sent_ms - fault_ms << " ms after the fault";
  }

  // The write outage after `from_ms`: the largest gap between consecutive acknowledgements that
  // ends after it and no later than `to_ms` (a commit in flight at the fault may still be
  // acknowledged just after it, so the first acknowledgement after the fault is not the end).
  int64_t outage_ms(int64_t from_ms, int64_t to_ms = std::numeric_limits<int64_t>::max()) const {
    int64_t gap = -1, prev = -1;
    for (const Ack& a : writer_->acks()) {
      if (prev >= 0 && a.at_ms > from_ms && a.at_ms <= to_ms) gap = std::max(gap, a.at_ms - prev);
      prev = a.at_ms;
    }
    return gap;
  }

  // Waits until a commit sent after `after_ms` was acknowledged.
  bool wait_writes_resume(int64_t after_ms, int timeout_ms = kFailoverMs) {
    return c_->wait_until([&] {
      auto a = writer_->acks();
      return !a.empty() && a.back().sent_ms > after_ms;
    }, timeout_ms);
  }
  // Waits until a node other than `old` is writable; returns it.
  std::optional<int> wait_new_primary(int old, int timeout_ms = kFailoverMs) {
    std::optional<int> p;
    if (!c_->wait_until([&] { p = c_->writable_primary(); return p && *p != old; }, timeout_ms)) return std::nullopt;
    return p;
  }

  // Every node but `primary` streams from it, by pg_ha's view and by PostgreSQL's own.
  bool all_streaming(int primary) {
    if (c_->wait_healthy(c_->size() - 1, 1000) != primary) return false;
    for (int i = 0; i < c_->size(); ++i) {
      if (i == primary) continue;
      std::string s = value(i, "SELECT status || ':' || sender_port FROM pg_stat_wal_receiver");
      if (s != "streaming:" + std::to_string(c_->port(primary))) return false;
    }
    return true;
  }
  // Waits for a writable primary that every other node streams from (after a heal); returns it.
  std::optional<int> wait_all_streaming(int timeout_ms) {
    std::optional<int> primary;
    if (!c_->wait_until([&] {
          primary = c_->writable_primary();
          return primary && all_streaming(*primary);
        }, timeout_ms))
      return std::nullopt;
    return primary;
  }

  // Stops the workload and checks the invariants every fault test shares.
  void finish(int primary, bool expect_no_loss) {
    writer_->stop();
    watch_->stop();
    std::string two = watch_->two_writers_seen();
    EXPECT_EQ(two, "") << "two nodes were writable at once: " << two;
    if (old_primary_ >= 0) expect_no_forbidden_acks(old_primary_, fault_ms_, killed_old_primary_, monotonic_ms());
    expect_no_orphaned_workers();
    auto missing = writer_->missing_on(c_->conninfo(primary));
    std::printf("[ measured ] %s: %zu commits acknowledged, %zu acknowledged but missing, write outage %lld ms\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(), writer_->acks().size(),
                missing.size(), static_cast<long long>(writer_->largest_gap_ms(fault_ms_)));
    std::fflush(stdout);
    if (expect_no_loss) {
      EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged rows are missing";
    }
  }

  std::string logs() const {
    std::string out;
    for (int i = 0; c_ && i < c_->size(); ++i) out += c_->logs(i) + "\n";
    return out;
  }
  // First column of the first row, "" on error or no row.
  std::string value(int node, const std::string& sql) const {
    auto r = c_->query(node, sql);
    return r.ok() && !r->empty() && !(*r)[0].empty() ? (*r)[0][0] : "";
  }
  std::string name_of_primary() { return value(primary_, "SELECT leader FROM pg_ha.cluster()"); }
  // Runs a control function on `node`, failing the test with the server's message on error.
  void control(int node, const std::string& sql) {
    auto r = c_->query(node, sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error().message;
  }

  std::unique_ptr<PgHaCluster> c_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<SplitBrainWatch> watch_;
  int primary_ = -1;
  int old_primary_ = -1;          // the primary when the writer started or at the last fault
  bool killed_old_primary_ = false;
  std::vector<pid_t> orphan_watch_;  // workers of killed postmasters: must exit
  int64_t fault_ms_ = 0;
};

}  // namespace pg_ha::test
