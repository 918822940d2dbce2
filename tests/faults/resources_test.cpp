// Resource exhaustion on a real cluster (issue 14 items 3 and 5, issue 16 item 2), label `faults`:
//   DiskFull                 the primary's data directory is on a small tmpfs that the test fills:
//                            the primary fails over well before primary_start_timeout, stays listed
//                            in members() with a down state and a reason, loses no acknowledged
//                            commit (synchronous mode), and streams again once space is freed;
//   MaxConnectionsExhausted  max_connections full of ordinary sessions: a pgha_admin member cannot
//                            log in there, but switches over through a replica, and the old
//                            primary's demote still rewinds (as rewind_user, a superuser that
//                            gets a reserved slot) instead of re-cloning.
// Both take well under 90 s and are in the quick set. Needs root (mount). Every mount is undone in TearDown, also after a failed assertion, and the
// test then checks that it is gone.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"
#include "tmpfs.hpp"

namespace pg_ha::test {
namespace {

// ttl 5 s as in the other tests, but a primary_start_timeout far beyond it: before issue 14 a
// primary whose start kept failing held its lease until this ran out.
constexpr int kPrimaryStartTimeoutS = 60;
constexpr int kHealMs = 150000;   // back-off (at most 30 s) + pg_rewind + start

class Resources : public Cluster {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (mount)";
  }
  void TearDown() override {
    Cluster::TearDown();
    for (PGconn* c : sessions_) PQfinish(c);
    sessions_.clear();
    c_.reset();   // every process of the cluster is gone before its disks go
    std::vector<std::string> points;
    for (auto& t : disks_) points.push_back(t->mount_point());
    disks_.clear();
    for (const auto& p : points) EXPECT_FALSE(Tmpfs::mounted(p)) << p << " is still mounted";
  }

  // Ordinary sessions (role app) on node i until the server refuses one; returns how many it took.
  int saturate(int i) {
    std::string ci = "host=127.0.0.1 port=" + std::to_string(c_->port(i)) + " user=app password=it-app dbname=postgres";
    int n = 0;
    for (; n < 1000; ++n) {
      PGconn* c = PQconnectdb(ci.c_str());
      if (PQstatus(c) != CONNECTION_OK) {
        last_refusal_ = PQerrorMessage(c);
        PQfinish(c);
        break;
      }
      sessions_.push_back(c);
    }
    return n;
  }
  void release_sessions() {
    for (PGconn* c : sessions_) PQfinish(c);
    sessions_.clear();
  }

  std::vector<std::unique_ptr<Tmpfs>> disks_;
  std::vector<PGconn*> sessions_;
  std::string last_refusal_;
};

// Issue 14 item 3 and issue 16 item 2.
TEST_F(Resources, DiskFull) {
  ClusterOptions o;
  // The fill below writes WAL faster than a loaded machine streams it, and none of it is a commit:
  // with the default maximum_lag_on_failover (1 MB) the synchronous standby, which holds every
  // acknowledged commit, was refused as "7.9 MB behind" (suite run, 2 cores busy). What is tested
  // here is the full disk, not that rule.
  o.config_json = config_with(R"("synchronous_mode":"on","maximum_lag_on_failover":268435456,"primary_start_timeout":)" +
                              std::to_string(kPrimaryStartTimeoutS));
  // Every node's data directory on its own tmpfs: whichever wins the bootstrap has one to fill.
  o.prepare_node = [&](int, const std::string& base, const std::string& user) {
    disks_.push_back(std::make_unique<Tmpfs>(320, user));
    std::filesystem::create_symlink(disks_.back()->data(), base + "/data");
  };
  start(o);
  ASSERT_FALSE(HasFatalFailure());
  start_writer();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(c_->wait_until([&] { return !value(primary_, "SELECT sync_standbys FROM pg_ha.cluster()").empty() &&
                                          value(primary_, "SELECT sync_standbys FROM pg_ha.cluster()") != "{}"; },
                             kFailoverMs)) << logs();
  int old = primary_;
  std::string old_name = c_->name(old);

  fault_ms_ = monotonic_ms();
  disks_[old]->fill();
  // WAL only (no table to extend): the next WAL segment cannot be created, and the server PANICs.
  // Again whenever it comes back up, until another node leads.
  std::optional<int> np;
  int64_t until = monotonic_ms() + kFailoverMs;
  while (monotonic_ms() < until) {
    np = c_->writable_primary();
    if (np && *np != old) break;
    np.reset();
    (void)c_->query(old, "SELECT pg_logical_emit_message(false, 'fill', repeat('x', 1048576)) FROM generate_series(1, 64)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(np) << logs();
  int64_t failover_ms = monotonic_ms() - fault_ms_;
  std::printf("[ measured ] DiskFull: a new primary %lld ms after the disk filled (primary_start_timeout %d s)\n",
              static_cast<long long>(failover_ms), kPrimaryStartTimeoutS);
  EXPECT_LT(failover_ms, kPrimaryStartTimeoutS * 1000 / 2) << "the full primary held its lease\n" << logs();

  // Listed while down, with why, also once its worker's member record has gone with its lease.
  std::string sql = "SELECT state || ' | ' || coalesce(reason, '') FROM pg_ha.members() WHERE name = '" + old_name + "'";
  std::string seen;
  bool listed = c_->wait_until([&] {
    seen = value(*np, sql);
    return c_->etcd_value("members/" + old_name).empty() && seen.rfind("start failed | ", 0) == 0 &&
           seen.find("No space left on device") != std::string::npos;
  }, 30000);
  EXPECT_TRUE(listed) << "members() says \"" << seen << "\" for " << old_name << "\n" << logs();
  EXPECT_NE(c_->etcd_value("down/" + old_name), "");
  std::printf("[ measured ] DiskFull: members() lists %s as \"%s\"\n", old_name.c_str(), seen.c_str());

  disks_[old]->free_space();
  bool back = c_->wait_until([&] {
    auto p = c_->writable_primary();
    return p && *p != old && c_->wait_healthy(c_->size() - 1, 1000) == *p &&
           value(old, "SELECT status FROM pg_stat_wal_receiver") == "streaming";
  }, kHealMs);
  ASSERT_TRUE(back) << old_name << " does not stream again after space was freed\n" << logs();
  EXPECT_TRUE(c_->wait_until([&] { return c_->etcd_value("down/" + old_name).empty(); }, 10000))
      << "the down record outlived the outage";
  std::printf("[ measured ] DiskFull: %s streams again %lld ms after the disk filled\n", old_name.c_str(),
              static_cast<long long>(monotonic_ms() - fault_ms_));
  auto p = c_->writable_primary();
  ASSERT_TRUE(p);
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  finish(*p, true);
}

// Issue 14 item 5.
TEST_F(Resources, MaxConnectionsExhausted) {
  ClusterOptions o;
  o.extra_node_settings = {"max_connections = 20", "rewind_user = pgha_rewind"};
  o.prepare_node = [](int, const std::string& base, const std::string&) {
    std::ofstream(base + "/replication.pgpass", std::ios::app) << "*:*:*:pgha_rewind:It-Rewind-Secret-9c2e\n";
  };
  start(o);
  ASSERT_FALSE(HasFatalFailure());
  start_writer();
  ASSERT_FALSE(HasFatalFailure());
  control(primary_, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops') THEN "
                    "CREATE ROLE ops LOGIN PASSWORD 'it-ops' IN ROLE pgha_admin; END IF; END $$");
  int old = primary_;
  int candidate = (old + 1) % c_->size(), other = (old + 2) % c_->size();
  // Wait until the role has replayed where it is used.
  ASSERT_TRUE(c_->wait_until([&] { return value(other, "SELECT count(*) FROM pg_roles WHERE rolname = 'ops'") == "1"; }, 20000));

  // Both the primary and the candidate full: the new primary will be full when the old one rewinds.
  int on_primary = saturate(old);
  int on_candidate = saturate(candidate);
  std::printf("[ measured ] MaxConnectionsExhausted: %d + %d ordinary sessions filled the primary and the candidate; "
              "refusal: %s\n", on_primary, on_candidate, last_refusal_.c_str());
  ASSERT_GT(on_candidate, 5);
  auto ops_on = [&](int i) {
    return "host=127.0.0.1 port=" + std::to_string(c_->port(i)) + " user=ops password=it-ops dbname=postgres connect_timeout=3";
  };
  // PostgreSQL 15 reserves its last slots for superusers only: pgha_admin members are refused.
  auto refused = pq_query(ops_on(old), "SELECT 1");
  ASSERT_FALSE(refused.ok()) << "a pgha_admin member logged in on a full server";
  // The documented way: any node answers the control functions; act through one with room.
  auto sw = pq_query(ops_on(other), "SELECT pg_ha.switchover('" + c_->name(candidate) + "')");
  ASSERT_TRUE(sw.ok()) << sw.error().message;
  fault_ms_ = monotonic_ms();
  ASSERT_TRUE(wait_new_primary(old, kFailoverMs)) << logs();

  // The old primary becomes a replica of the full new primary by pg_rewind, not by a re-clone.
  bool rejoined = c_->wait_until([&] {
    return value(old, "SELECT status || ':' || sender_port FROM pg_stat_wal_receiver") ==
           "streaming:" + std::to_string(c_->port(candidate));
  }, kFailoverMs);
  ASSERT_TRUE(rejoined) << logs();
  std::string log = c_->sidecar_log(old);
  EXPECT_NE(log.find("pg_rewind against " + c_->name(candidate)), std::string::npos) << log;
  EXPECT_EQ(log.find("re-clon"), std::string::npos) << "the demote re-cloned\n" << log;
  bool moved_aside = false;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(c_->data_directory(old)).parent_path()))
    moved_aside = moved_aside || e.path().filename().string().rfind("data.old-", 0) == 0;
  EXPECT_FALSE(moved_aside) << "a data directory was moved aside";

  release_sessions();
  ASSERT_TRUE(c_->wait_healthy(c_->size() - 1, kFailoverMs)) << logs();
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  finish(candidate, true);
}

}  // namespace
}  // namespace pg_ha::test
