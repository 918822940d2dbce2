// The sidecar with the real extension and its worker (ctest label: sidecar): pg_ha preloaded, the
// worker takes leadership, the sidecar creates the extension, a second node joins, and the HTTP
// checks answer from pg_ha's SQL functions. Skipped when pg_ha.so is not installed.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "core/schema.hpp"
#include "support.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar_test;

namespace {

constexpr const char* kCluster = "wk";

bool extension_installed() {
  return access("/usr/lib/postgresql/15/lib/pg_ha.so", R_OK) == 0 &&
         access("/usr/share/postgresql/15/extension/pg_ha.control", R_OK) == 0;
}

class SidecarWithWorker : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root() || !extension_installed()) return;
    base_ = make_temp_dir();
    etcd_ = std::make_unique<Etcd>(base_);
    passfile_ = base_ + "/replication.pgpass";
    write_file(passfile_, std::string("*:*:*:replicator:") + kReplicationPassword + "\n");
    chown_postgres(passfile_);
    chmod(passfile_.c_str(), 0600);
  }
  static void TearDownTestSuite() {
    nodes_.clear();
    etcd_.reset();
    if (!base_.empty()) {
      kill_postmasters_under(base_);
      if (!getenv("PG_HA_KEEP_TEST_DIRS")) std::filesystem::remove_all(base_);
      else std::cout << "test files kept in " << base_ << std::endl;
    }
  }
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root";
    if (!extension_installed()) GTEST_SKIP() << "pg_ha.so is not installed (cmake --install)";
    if (!etcd_) GTEST_SKIP() << "etcd did not start";
  }
  static SidecarNode& node(const std::string& name) {
    auto& n = nodes_[name];
    if (!n) n = std::make_unique<SidecarNode>(NodeSpec{name, base_ + "/" + name, free_port(), free_port(), "pg_ha"},
                                              kCluster, etcd_->endpoint(), passfile_);
    return *n;
  }
  static std::string leader() {
    auto kv = etcd_->client().get(core::Keys("/pg_ha", kCluster).leader());
    if (!kv.ok() || !kv->has_value()) return "";
    auto l = core::decode_leader((*kv)->value);
    return l.ok() ? l->name : "";
  }
  static std::string dump_log(const SidecarNode& n) {
    return "sidecar log:\n" + read_file(n.log_file()) + "\npostgres log (tail):\n" +
           read_file(n.state_dir() + "/postgresql.log").substr(0, 4000);
  }

  static inline std::string base_, passfile_;
  static inline std::unique_ptr<Etcd> etcd_;
  static inline std::map<std::string, std::unique_ptr<SidecarNode>> nodes_;
};

TEST_F(SidecarWithWorker, BootstrapTakesLeadershipAndCreatesTheExtension) {
  SidecarNode& n1 = node("n1");
  int64_t t0 = now_ms();
  n1.start();
  ASSERT_TRUE(wait_until([&] { return leader() == "n1"; }, 20000))
      << "no leader after 20 s: this needs the worker's cluster loop (leadership)\n" << dump_log(n1);
  ASSERT_TRUE(wait_until([&] { return n1.sql("SELECT extname FROM pg_extension WHERE extname = 'pg_ha'") ==
                                      std::optional<std::string>("pg_ha"); }, 30000)) << dump_log(n1);
  std::cout << "[timing] bootstrap with worker (to extension created): " << now_ms() - t0 << " ms" << std::endl;
  EXPECT_TRUE(wait_until([&] { return n1.http_get("/primary") == 200; }, 15000)) << dump_log(n1);
}

TEST_F(SidecarWithWorker, SecondJoinsAndHealthChecksAnswerFromPgHa) {
  SidecarNode& n1 = node("n1");
  if (leader() != "n1") GTEST_SKIP() << "n1 holds no leadership: needs the worker's cluster loop";
  SidecarNode& n2 = node("n2");
  int64_t t0 = now_ms();
  n2.start();
  ASSERT_TRUE(wait_until([&] {
    return n1.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name LIKE 'n2@%' AND state = 'streaming'") ==
           std::optional<std::string>("1");
  }, 60000)) << dump_log(n2);
  std::cout << "[timing] join with worker (to streaming): " << now_ms() - t0 << " ms" << std::endl;
  EXPECT_TRUE(wait_until([&] { return n2.http_get("/replica") == 200; }, 15000)) << dump_log(n2);
  EXPECT_EQ(n2.http_get("/primary"), 503);
  std::string body;
  EXPECT_EQ(n1.http_get("/cluster", &body), 200);
  EXPECT_NE(body.find("\"n2\""), std::string::npos) << body;
  EXPECT_EQ(body.find(kReplicationPassword), std::string::npos);
  EXPECT_EQ(n1.http_get("/metrics", &body), 200);
  EXPECT_NE(body.find("pg_ha_role{node=\"n1\",role=\"primary\"} 1"), std::string::npos) << body;
}

// The whole chain: the primary's postmaster dies, the sidecar revokes its lease at once
// (primary_start_timeout = 0), n2 wins the election, and n1 comes back fenced and is demoted by its
// worker through the sidecar (pg_rewind), then streams from n2.
TEST_F(SidecarWithWorker, PrimaryCrashFailsOverAndOldPrimaryRejoins) {
  if (leader() != "n1") GTEST_SKIP() << "n1 holds no leadership: needs the worker's cluster loop";
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(n1.sql("SELECT pg_ha.set_config('{\"primary_start_timeout\": 0}')").has_value());
  ASSERT_TRUE(n1.sql("CREATE TABLE before_crash AS SELECT 1 AS x").has_value());
  ASSERT_TRUE(wait_until([&] { return n2.sql("SELECT x FROM before_crash") == std::optional<std::string>("1"); }, 10000));
  int64_t t0 = now_ms();
  kill(n1.postmaster_pid(), SIGKILL);
  ASSERT_TRUE(wait_until([&] { return leader() == "n2"; }, 30000)) << dump_log(n1) << dump_log(n2);
  std::cout << "[timing] primary kill -9 to new leader: " << now_ms() - t0 << " ms" << std::endl;
  ASSERT_TRUE(wait_until([&] {
    return n2.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name LIKE 'n1@%' AND state = 'streaming'") ==
           std::optional<std::string>("1");
  }, 60000)) << dump_log(n1);
  std::cout << "[timing] primary kill -9 to old primary streaming from the new one: " << now_ms() - t0 << " ms" << std::endl;
  std::string primary_body, replica_body;
  EXPECT_TRUE(wait_until([&] {
    return n2.http_get("/primary", &primary_body) == 200 && n1.http_get("/replica", &replica_body) == 200;
  }, 15000)) << "n2 /primary: " << primary_body << "\nn1 /replica: " << replica_body;
}

// pg_ha.restart(): the worker asks its sidecar for a restart; the sidecar marks it as one, so the
// worker keeps its lease and the node stays leader throughout.
TEST_F(SidecarWithWorker, RestartRequestKeepsLeadership) {
  if (leader() != "n2") GTEST_SKIP() << "needs the failover of the previous test";
  SidecarNode& n2 = node("n2");
  pid_t old_pid = n2.postmaster_pid();
  // Asked on n2 itself: the restart may end this session before its answer arrives, so the
  // proof is the restart, not the answer.
  n2.sql("SELECT pg_ha.restart('n2')");
  bool lost = false;
  bool restarted = wait_until([&] {
    if (leader() != "n2") lost = true;
    return n2.postmaster_pid() != old_pid && n2.accepting();
  }, 30000);
  ASSERT_TRUE(restarted) << dump_log(n2);
  EXPECT_FALSE(lost) << "leadership moved during a restart";
  EXPECT_TRUE(wait_until([&] { return n2.http_get("/primary") == 200; }, 15000));
  EXPECT_NE(read_file(n2.log_file()).find("restart"), std::string::npos);
}

// PostgreSQL reads postgresql.auto.conf (ALTER SYSTEM) after every file the sidecar's
// postgresql.conf includes, so a value there overrode pg_ha: a data directory adopted or cloned
// with `shared_preload_libraries = 'pg_stat_statements'` in it (a common ALTER SYSTEM) started
// without pg_ha (no fence, no worker), a `port` there made the node unreachable for its own
// sidecar, and a stale `primary_conninfo` (pg_basebackup -R) replaced the upstream the worker
// chose. The sidecar now sets its wiring on the command line (which wins over every file) and
// removes the worker's parameters from postgresql.auto.conf before postgres starts; ALTER SYSTEM
// SET of either is refused.
TEST_F(SidecarWithWorker, PostgresqlAutoConfCannotUnwireTheNode) {
  if (leader() != "n2") GTEST_SKIP() << "needs the failover of the earlier test";
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  auto streaming_n1 = [&] {
    return n2.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name LIKE 'n1@%' AND state = 'streaming'") ==
           std::optional<std::string>("1");
  };
  ASSERT_TRUE(wait_until(streaming_n1, 60000)) << dump_log(n1);
  n1.stop();
  std::string auto_conf = n1.data_dir() + "/postgresql.auto.conf";
  write_file(auto_conf, read_file(auto_conf) +
                            "shared_preload_libraries = ''\n"
                            "port = 1\n"
                            "Primary_Conninfo='host=192.0.2.1 port=5432 password=s3cret-in-auto-conf'\n"
                            "synchronous_standby_names = '*'\n");
  chown_postgres(auto_conf);
  n1.start();
  ASSERT_TRUE(wait_until(streaming_n1, 60000)) << dump_log(n1);
  EXPECT_EQ(n1.sql("SHOW shared_preload_libraries"), std::optional<std::string>("pg_ha")) << dump_log(n1);
  EXPECT_TRUE(wait_until([&] { return n1.sql("SELECT state FROM pg_ha.node_status()") == std::optional<std::string>("streaming"); }, 15000))
      << "pg_ha's worker does not run on n1\n" << dump_log(n1);
  std::string left = read_file(auto_conf);
  EXPECT_EQ(left.find("onninfo"), std::string::npos) << left;
  EXPECT_EQ(left.find("synchronous_standby_names"), std::string::npos) << left;
  EXPECT_NE(left.find("port = 1"), std::string::npos) << "only pg_ha's own parameters are removed\n" << left;
  std::string log = read_file(n1.log_file());
  EXPECT_NE(log.find("primary_conninfo"), std::string::npos) << "the removal is logged\n" << log;
  EXPECT_EQ(log.find("s3cret-in-auto-conf"), std::string::npos) << "a removed value is never logged\n" << log;
  // ALTER SYSTEM of what the sidecar or the worker sets is refused, and says where to change it.
  EXPECT_FALSE(n2.sql("ALTER SYSTEM SET port = 5433").has_value());
  EXPECT_FALSE(n2.sql("ALTER SYSTEM SET synchronous_standby_names = ''").has_value());
  EXPECT_TRUE(n2.sql("ALTER SYSTEM RESET synchronous_standby_names").has_value());
}

// etcd lost the cluster's keys (rebuilt empty, a single member restarted on a fresh data
// directory). A sidecar that restarts then found no `initialize` key and adopted its data
// directory as the cluster's origin, also a standby's: the standby became the origin, waited for
// a bootstrap that only a primary does, and the primary stayed fenced ("initialized by n1") for
// good. A standby's sidecar now never adopts: only the primary's does, and the cluster comes back
// under it.
TEST_F(SidecarWithWorker, AfterEtcdLostTheKeysOnlyThePrimaryReinitializesTheCluster) {
  if (leader() != "n2") GTEST_SKIP() << "needs the failover of the earlier test";
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  core::Keys keys("/pg_ha", kCluster);
  ASSERT_TRUE(etcd_->client().delete_range(etcd::DeleteRequest::prefix(keys.root())).ok());
  n1.stop();
  n1.start();
  ASSERT_TRUE(wait_until([&] { return n1.sql("SELECT pg_is_in_recovery()") == std::optional<std::string>("t"); }, 30000))
      << "the standby did not start again\n" << dump_log(n1);
  auto init = etcd_->client().get(keys.initialize());
  ASSERT_TRUE(init.ok());
  EXPECT_FALSE(init->has_value()) << "a standby adopted its data directory as the cluster's origin\n" << dump_log(n1);
  EXPECT_TRUE(wait_until([&] { return read_file(n2.log_file()).find("etcd lost the cluster's keys") != std::string::npos; }, 30000))
      << "the running primary's sidecar does not say what happened\n" << dump_log(n2);
  n2.stop();
  n2.start();
  ASSERT_TRUE(wait_until([&] { return leader() == "n2" && n2.http_get("/primary") == 200; }, 60000))
      << "the cluster did not come back under its primary\n" << dump_log(n2) << dump_log(n1);
  EXPECT_TRUE(wait_until([&] {
    return n2.sql("SELECT count(*) FROM pg_stat_replication WHERE application_name LIKE 'n1@%' AND state = 'streaming'") ==
           std::optional<std::string>("1");
  }, 60000)) << dump_log(n1);
}

}  // namespace
