// The sidecar against real PostgreSQL 15 and a real etcd (ctest label: sidecar). Runs as root;
// postgres runs as the `postgres` user. The tests play the worker's part themselves: they write
// the leader and member records the worker would publish and the requests it would send, and
// promote with pg_promote(). The nodes run without pg_ha preloaded, so these tests need only the
// sidecar. The tests of one suite build on each other (one cluster, one bootstrap) to stay fast.
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/schema.hpp"
#include "core/sidecar_channel.hpp"
#include "support.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar_test;

namespace {

constexpr const char* kCluster = "sc";

void timing(const std::string& what, int64_t ms) {
  std::cout << "[timing] " << what << ": " << ms << " ms" << std::endl;
  testing::Test::RecordProperty(what, std::to_string(ms));
}

class SidecarCluster : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
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
      if (!HasFailure() && !getenv("PG_HA_KEEP_TEST_DIRS")) std::filesystem::remove_all(base_);
      else std::cout << "test files kept in " << base_ << std::endl;
    }
  }

  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root (runs postgres as the postgres user)";
    if (!etcd_) GTEST_SKIP() << "etcd did not start";
  }

  static SidecarNode& node(const std::string& name) {
    auto& n = nodes_[name];
    if (!n) {
      NodeSpec spec{name, base_ + "/" + name, free_port(), free_port(), ""};
      n = std::make_unique<SidecarNode>(spec, kCluster, etcd_->endpoint(), passfile_);
    }
    return *n;
  }

  static core::Keys keys() { return core::Keys("/pg_ha", kCluster); }

  // What the worker would publish: this node's member record and the leader key.
  static void publish_member(const SidecarNode& n, core::Role role, int64_t lease = 0) {
    core::MemberRecord m;
    m.name = n.spec().name;
    m.role = role;
    m.state = "running";
    m.postgres_running = true;
    m.host = "127.0.0.1";
    m.port = n.spec().port;
    m.lease_id = lease;
    ASSERT_TRUE(etcd_->client().put(keys().member(m.name), core::encode(m), lease).ok());
  }
  // n as the primary the worker would publish, on a new 60 s lease: its id (0 when etcd refused).
  static int64_t publish_primary_on_new_lease(const SidecarNode& n) {
    auto lease = etcd_->client().lease_grant(60);
    if (!lease.ok()) return 0;
    publish_member(n, core::Role::Primary, lease->id);
    return lease->id;
  }
  static void set_primary_start_timeout(int seconds) {
    core::ClusterConfig config;
    config.primary_start_timeout_s = seconds;
    ASSERT_TRUE(etcd_->client().put(keys().config(), core::encode_cluster_config(config)).ok());
  }
  static void publish_leader(const std::string& name, int64_t term, int64_t lease = 0) {
    ASSERT_TRUE(etcd_->client().put(keys().leader(), core::encode(core::LeaderRecord{name, term}), lease).ok());
  }
  static void publish_paused(bool paused) {
    core::StateRecord s;
    s.paused = paused;
    ASSERT_TRUE(etcd_->client().put(keys().state(), core::encode(s)).ok());
  }

  static bool in_recovery(const SidecarNode& n) { return n.sql("SELECT pg_is_in_recovery()") == std::optional<std::string>("t"); }
  static bool is_primary(const SidecarNode& n) { return n.sql("SELECT pg_is_in_recovery()") == std::optional<std::string>("f"); }
  static bool streams_from(const SidecarNode& standby, const SidecarNode& primary) {
    // application_name is name@identity (core/sync_names.hpp)
    return primary.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND split_part(application_name, '@', 1) = '" +
                       standby.spec().name + "'") == std::optional<std::string>("1") &&
           in_recovery(standby);
  }

  static void send_request(const SidecarNode& n, core::SidecarRequest::Kind kind, const std::string& id,
                           const SidecarNode& primary) {
    core::SidecarRequest r;
    r.kind = kind;
    r.id = id;
    r.primary = primary.spec().name;
    r.primary_host = "127.0.0.1";
    r.primary_port = primary.spec().port;
    r.reason = "test";
    n.write_request(core::encode_sidecar_request(r));
  }
  static std::optional<core::SidecarResult> result_of(const SidecarNode& n, const std::string& id) {
    auto r = core::decode_sidecar_result(n.result_json());
    if (!r || r->id != id) return std::nullopt;
    return *r;
  }

  static std::string dump_log(const SidecarNode& n) { return "sidecar log:\n" + read_file(n.log_file()); }

  static inline std::string base_;
  static inline std::string passfile_;
  static inline std::unique_ptr<Etcd> etcd_;
  static inline std::map<std::string, std::unique_ptr<SidecarNode>> nodes_;
};

TEST_F(SidecarCluster, FirstNodeBootstraps) {
  SidecarNode& n1 = node("n1");
  int64_t t0 = now_ms();
  n1.start();
  auto initialized = [&] {
    auto kv = etcd_->client().get(keys().initialize());
    if (!kv.ok() || !kv->has_value()) return false;
    auto r = core::decode_initialize((*kv)->value);
    return r.ok() && !r->system_identifier.empty();
  };
  ASSERT_TRUE(wait_until([&] { return initialized() && n1.accepting(); }, 60000)) << dump_log(n1);
  timing("bootstrap (initdb to accepting connections)", now_ms() - t0);
  EXPECT_TRUE(is_primary(n1));
  auto init = etcd_->client().get(keys().initialize());
  auto rec = core::decode_initialize((*init)->value);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->node, "n1");
  EXPECT_EQ(std::optional<std::string>(rec->system_identifier), n1.sql("SELECT system_identifier FROM pg_control_system()"));
  EXPECT_EQ(n1.sql("SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'"), std::optional<std::string>("t"));
  EXPECT_EQ(n1.sql("SHOW data_checksums"), std::optional<std::string>("on"));
  EXPECT_EQ(n1.sql("SHOW config_file"), std::optional<std::string>(n1.state_dir() + "/postgresql.conf"));
  // The password never reaches a log.
  EXPECT_EQ(read_file(n1.log_file()).find(kReplicationPassword), std::string::npos);
  EXPECT_EQ(read_file(n1.state_dir() + "/postgresql.log").find(kReplicationPassword), std::string::npos);
}

TEST_F(SidecarCluster, SecondJoinsByBasebackupAndStreams) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  publish_member(n1, core::Role::Primary);
  publish_leader("n1", 1);
  ASSERT_TRUE(n1.sql("CREATE TABLE before_join AS SELECT 1 AS x").has_value());
  int64_t t0 = now_ms();
  n2.start();
  ASSERT_TRUE(wait_until([&] { return streams_from(n2, n1); }, 60000)) << dump_log(n2);
  timing("join (pg_basebackup to streaming)", now_ms() - t0);
  EXPECT_EQ(n2.sql("SELECT x FROM before_join"), std::optional<std::string>("1"));
  ASSERT_TRUE(n1.sql("CREATE TABLE after_join AS SELECT 2 AS x").has_value());
  EXPECT_TRUE(wait_until([&] { return n2.sql("SELECT x FROM after_join") == std::optional<std::string>("2"); }, 10000));
  publish_member(n2, core::Role::Replica);
}

TEST_F(SidecarCluster, ThirdJoinsLater) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n3 = node("n3");
  n3.start();
  ASSERT_TRUE(wait_until([&] { return streams_from(n3, n1); }, 60000)) << dump_log(n3);
  n3.stop();   // later tests re-point n1; n3 is not needed any more
  EXPECT_FALSE(n3.accepting());
  EXPECT_NE(read_file(n3.log_file()).find("postgres is down; exiting"), std::string::npos);
}

TEST_F(SidecarCluster, HttpChecksOnPrimaryAndReplica) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  std::vector<std::string> bodies(1);
  EXPECT_EQ(n1.http_get("/primary", &bodies.back()), 200) << bodies.back();
  EXPECT_EQ(n1.http_get("/replica"), 503);
  EXPECT_EQ(n1.http_get("/read-only"), 200);
  EXPECT_EQ(n1.http_get("/readiness"), 200);
  bodies.emplace_back();
  EXPECT_EQ(n2.http_get("/replica", &bodies.back()), 200) << bodies.back();
  EXPECT_EQ(n2.http_get("/replica?lag=16MB"), 200);
  EXPECT_EQ(n2.http_get("/replica?lag=1GB"), 200);
  EXPECT_EQ(n2.http_get("/replica?lag=16XB"), 400);
  EXPECT_EQ(n2.http_get("/read-only?lag=1MB"), 200);
  EXPECT_EQ(n2.http_get("/primary"), 503);
  for (const char* path : {"/health", "/liveness", "/metrics"}) {
    bodies.emplace_back();
    EXPECT_EQ(n2.http_get(path, &bodies.back()), 200) << path;
  }
  EXPECT_NE(bodies.back().find("pg_ha_postgres_up{node=\"n2\"} 1"), std::string::npos) << bodies.back();
  bodies.emplace_back();
  EXPECT_EQ(n2.http_get("/no/such/path", &bodies.back()), 404);
  EXPECT_EQ(n2.http_get("/primaryx"), 404);
  for (const auto& b : bodies) {
    EXPECT_EQ(b.find(kReplicationPassword), std::string::npos) << b;
    EXPECT_EQ(b.find("pgpass"), std::string::npos) << b;
  }
}

TEST_F(SidecarCluster, CrashedReplicaIsRestarted) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  pid_t old_pid = n2.postmaster_pid();
  ASSERT_GT(old_pid, 0);
  int64_t t0 = now_ms();
  kill(old_pid, SIGKILL);
  ASSERT_TRUE(wait_until([&] { return n2.postmaster_pid() != old_pid && streams_from(n2, n1); }, 20000)) << dump_log(n2);
  timing("replica restart after kill -9 (to streaming)", now_ms() - t0);
  EXPECT_NE(read_file(n2.log_file()).find("postgres exited unexpectedly"), std::string::npos);
}

TEST_F(SidecarCluster, PausedClusterLeavesCrashedPostgresDown) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  publish_paused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));   // the sidecar re-reads the pause every second
  kill(n2.postmaster_pid(), SIGKILL);
  ASSERT_TRUE(wait_until([&] { return !n2.accepting(); }, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(n2.accepting()) << "restarted although the cluster is paused";
  // Health checks on a stopped postgres: role checks 503, the sidecar itself alive.
  std::string body;
  EXPECT_EQ(n2.http_get("/replica", &body), 503) << body;
  EXPECT_EQ(n2.http_get("/primary"), 503);
  EXPECT_EQ(n2.http_get("/health"), 503);
  EXPECT_EQ(n2.http_get("/readiness"), 503);
  EXPECT_EQ(n2.http_get("/cluster"), 503);
  EXPECT_EQ(n2.http_get("/liveness", &body), 200);
  EXPECT_NE(body.find("\"postgres_running\":false"), std::string::npos) << body;
  EXPECT_EQ(n2.http_get("/metrics", &body), 200);
  EXPECT_NE(body.find("pg_ha_postgres_up{node=\"n2\"} 0"), std::string::npos) << body;
  publish_paused(false);
  ASSERT_TRUE(wait_until([&] { return streams_from(n2, n1); }, 20000)) << dump_log(n2);
}

TEST_F(SidecarCluster, DemoteRewindsDivergedOldPrimary) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  // Failover as the worker would do it: n2 promotes and takes leadership; n1 keeps writing.
  ASSERT_TRUE(n2.sql("SELECT pg_promote()").has_value());
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 10000));
  publish_member(n2, core::Role::Primary);
  publish_leader("n2", 2);
  ASSERT_TRUE(n1.sql("CREATE TABLE diverged_on_n1 AS SELECT generate_series(1, 10000) AS x").has_value());
  ASSERT_TRUE(n2.sql("CREATE TABLE after_failover AS SELECT 42 AS x").has_value());
  int64_t t0 = now_ms();
  send_request(n1, core::SidecarRequest::Kind::Demote, "demote-1", n2);
  ASSERT_TRUE(wait_until([&] { return result_of(n1, "demote-1").has_value(); }, 60000)) << dump_log(n1);
  auto result = result_of(n1, "demote-1");
  EXPECT_TRUE(result->ok) << result->message;
  EXPECT_NE(result->message.find("rewound"), std::string::npos) << result->message;
  ASSERT_TRUE(wait_until([&] { return streams_from(n1, n2); }, 30000)) << dump_log(n1);
  timing("demote with pg_rewind (request to streaming)", now_ms() - t0);
  EXPECT_EQ(n1.sql("SELECT x FROM after_failover"), std::optional<std::string>("42"));
  EXPECT_EQ(n1.sql("SELECT count(*) FROM pg_class WHERE relname = 'diverged_on_n1'"), std::optional<std::string>("0"));
  publish_member(n1, core::Role::Replica);
  // The same request again is a no-op (idempotent by id).
  pid_t pid = n1.postmaster_pid();
  send_request(n1, core::SidecarRequest::Kind::Demote, "demote-1", n2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(n1.postmaster_pid(), pid);
}

// Removes every WAL segment of a stopped-or-running node except the newest: pg_rewind can no
// longer read back to the fork point.
void remove_old_wal(const std::string& data_dir) {
  std::vector<std::string> segments;
  DIR* d = opendir((data_dir + "/pg_wal").c_str());
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 24 && n.find_first_not_of("0123456789ABCDEF") == std::string::npos) segments.push_back(n);
  }
  closedir(d);
  std::sort(segments.begin(), segments.end());
  for (size_t i = 0; i + 1 < segments.size(); ++i) unlink((data_dir + "/pg_wal/" + segments[i]).c_str());
}

TEST_F(SidecarCluster, RewindImpossibleRecloneKeepsOldDirectory) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  // n1 diverges again (promoted by hand) and loses the WAL a rewind would need.
  ASSERT_TRUE(n1.sql("SELECT pg_promote()").has_value());
  ASSERT_TRUE(wait_until([&] { return is_primary(n1); }, 10000));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(n1.sql("CREATE TABLE IF NOT EXISTS junk AS SELECT 1 AS x; SELECT pg_switch_wal()").has_value());
  }
  ASSERT_TRUE(n1.sql("CHECKPOINT").has_value());
  remove_old_wal(n1.data_dir());
  int64_t t0 = now_ms();
  send_request(n1, core::SidecarRequest::Kind::Rewind, "rewind-2", n2);
  ASSERT_TRUE(wait_until([&] { return result_of(n1, "rewind-2").has_value(); }, 90000)) << dump_log(n1);
  auto result = result_of(n1, "rewind-2");
  EXPECT_TRUE(result->ok) << result->message;
  EXPECT_NE(result->message.find("re-cloned"), std::string::npos) << result->message;
  ASSERT_TRUE(wait_until([&] { return streams_from(n1, n2); }, 30000)) << dump_log(n1);
  timing("failed rewind then re-clone (request to streaming)", now_ms() - t0);
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(n1.spec().base))
    if (e.path().filename().string().rfind("data.old-", 0) == 0 && std::filesystem::exists(e.path() / "PG_VERSION")) kept = true;
  EXPECT_TRUE(kept) << "the old data directory must be kept aside";
  EXPECT_EQ(n1.sql("SELECT count(*) FROM pg_class WHERE relname = 'junk'"), std::optional<std::string>("0"));
}

TEST_F(SidecarCluster, SidecarKilledMidRequestCompletesAfterRestart) {
  SidecarNode& n1 = node("n1");
  SidecarNode& n2 = node("n2");
  // Enough data that pg_basebackup runs for a moment.
  ASSERT_TRUE(n2.sql("CREATE TABLE bulk AS SELECT repeat('x', 500) AS pad FROM generate_series(1, 150000)").has_value());
  auto old_dirs = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(n1.spec().base))
      if (e.path().filename().string().rfind("data.old-", 0) == 0) ++n;
    return n;
  };
  int old_before = old_dirs();
  send_request(n1, core::SidecarRequest::Kind::Reclone, "reclone-3", n2);
  std::string marker = n1.state_dir() + "/clone.in_progress";
  bool caught = wait_until([&] { return access(marker.c_str(), F_OK) == 0; }, 30000);
  n1.kill9();
  std::cout << (caught ? "killed the sidecar during the clone" : "the clone finished before the kill") << std::endl;
  n1.start();
  ASSERT_TRUE(wait_until([&] { return result_of(n1, "reclone-3").has_value(); }, 90000)) << dump_log(n1);
  EXPECT_TRUE(result_of(n1, "reclone-3")->ok) << result_of(n1, "reclone-3")->message;
  ASSERT_TRUE(wait_until([&] { return streams_from(n1, n2); }, 30000)) << dump_log(n1);
  EXPECT_TRUE(wait_until([&] { return n1.sql("SELECT count(*) FROM bulk") == std::optional<std::string>("150000"); }, 10000));
  // The old directory and, when the kill hit the clone, the half-made clone are kept aside; the
  // replay does not clone a second time.
  EXPECT_LE(old_dirs() - old_before, caught ? 2 : 1);
}

TEST_F(SidecarCluster, SecondSidecarForTheSameNodeIsRefused) {
  SidecarNode& n1 = node("n1");
  Child second({PG_HA_SIDECAR_BIN, "--config", n1.config_file()}, n1.spec().base + "/second.log", "postgres");
  ASSERT_TRUE(second.wait_exit(10000));
  EXPECT_EQ(second.exit_code(), 1);
  EXPECT_NE(read_file(n1.spec().base + "/second.log").find("already runs"), std::string::npos);
  EXPECT_TRUE(n1.accepting());
}

// The sidecar is os_user, never root (docs/sidecar.md): started as root it refuses before it
// touches any file, and the running node is not disturbed.
TEST_F(SidecarCluster, SidecarStartedAsRootIsRefused) {
  SidecarNode& n1 = node("n1");
  Child as_root({PG_HA_SIDECAR_BIN, "--config", n1.config_file()}, n1.spec().base + "/as_root.log");
  ASSERT_TRUE(as_root.wait_exit(10000));
  EXPECT_EQ(as_root.exit_code(), 1);
  EXPECT_NE(read_file(n1.spec().base + "/as_root.log").find("must not run as root"), std::string::npos)
      << read_file(n1.spec().base + "/as_root.log");
  EXPECT_TRUE(n1.accepting());
}

TEST_F(SidecarCluster, CrashedPrimaryWithZeroStartTimeoutRevokesLeaseAtOnce) {
  SidecarNode& n2 = node("n2");
  set_primary_start_timeout(0);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  publish_leader("n2", 2, lease);
  int64_t t0 = now_ms();
  kill(n2.postmaster_pid(), SIGKILL);
  ASSERT_TRUE(wait_until([&] {
    auto kv = etcd_->client().get(keys().member("n2"));
    return kv.ok() && !kv->has_value();
  }, 10000)) << dump_log(n2);
  int64_t gone_ms = now_ms() - t0;
  timing("primary kill -9 to member key gone (ttl 60 s)", gone_ms);
  EXPECT_LT(gone_ms, 5000);
  auto leader = etcd_->client().get(keys().leader());
  EXPECT_TRUE(leader.ok() && !leader->has_value());
  // Restarted in place all the same (as a fenced primary under pg_ha; the worker decides the rest).
  EXPECT_TRUE(wait_until([&] { return n2.accepting(); }, 20000)) << dump_log(n2);
}

TEST_F(SidecarCluster, CrashedPrimaryWithinStartTimeoutRestartsInPlaceAndKeepsLease) {
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 20000));
  set_primary_start_timeout(30);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  pid_t old_pid = n2.postmaster_pid();
  kill(old_pid, SIGKILL);
  // Restarted in place at once (a primary that served skips the crash back-off).
  ASSERT_TRUE(wait_until([&] { return n2.postmaster_pid() != old_pid && is_primary(n2); }, 30000)) << dump_log(n2);
  auto kv = etcd_->client().get(keys().member("n2"));
  EXPECT_TRUE(kv.ok() && kv->has_value()) << "the lease must survive a restart within primary_start_timeout";
}

// FINDINGS F21: a revoke the previous sidecar sent without an answer may still land, and it is on
// record in the state folder. The next sidecar revokes again and starts postgres only once etcd
// has answered, so that no worker of the new postgres can adopt the lease the late revoke ends.
TEST_F(SidecarCluster, RevokeOnRecordIsAnsweredBeforePostgresStarts) {
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 30000)) << dump_log(n2);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  publish_leader("n2", 3, lease);
  n2.stop();
  std::string record = n2.state_dir() + "/lease-revokes.unanswered";
  write_file(record, std::to_string(lease) + "\n");
  chown_postgres(record);
  size_t log_from = read_file(n2.log_file()).size();
  n2.start();
  ASSERT_TRUE(wait_until([&] { return n2.accepting(); }, 30000)) << dump_log(n2);
  auto member = etcd_->client().get(keys().member("n2"));
  EXPECT_TRUE(member.ok() && !member->has_value()) << "the lease on record was not revoked";
  auto leader = etcd_->client().get(keys().leader());
  EXPECT_TRUE(leader.ok() && !leader->has_value());
  EXPECT_FALSE(std::filesystem::exists(record)) << "answered: the record goes";
  std::string log = read_file(n2.log_file()).substr(log_from);
  size_t answered = log.find("etcd answered every revoke");
  size_t started = log.find("postgres started");
  ASSERT_NE(answered, std::string::npos) << log;
  ASSERT_NE(started, std::string::npos) << log;
  EXPECT_LT(answered, started) << "postgres started before etcd answered the revoke:\n" << log;
}

// F21/F22: a record of unanswered revokes found while postgres already runs (the sidecar alone
// restarted) is stale: postgres starts only after every revoke is answered. Revoking now could
// end the lease that postgres's worker holds, so the sidecar drops the record and revokes nothing.
TEST_F(SidecarCluster, RevokeRecordIsDroppedWhenPostgresAlreadyRuns) {
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 30000)) << dump_log(n2);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  n2.kill9();   // the sidecar only: postgres keeps running
  std::string record = n2.state_dir() + "/lease-revokes.unanswered";
  write_file(record, std::to_string(lease) + "\n");
  chown_postgres(record);
  size_t log_from = read_file(n2.log_file()).size();
  n2.start();
  ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(record); }, 20000)) << dump_log(n2);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));   // a revoke would be under way by now
  auto member = etcd_->client().get(keys().member("n2"));
  EXPECT_TRUE(member.ok() && member->has_value()) << "the lease of the running postgres was revoked\n" << dump_log(n2);
  EXPECT_NE(read_file(n2.log_file()).substr(log_from).find("already runs"), std::string::npos) << dump_log(n2);
  EXPECT_TRUE(is_primary(n2));
  // Postgres the sidecar's own child again: an adopted postmaster that is killed leaves a zombie
  // for init to reap, and the next test kills it.
  n2.stop();
  n2.start();
  EXPECT_TRUE(wait_until([&] { return is_primary(n2); }, 30000)) << dump_log(n2);
}

struct ProcEntry {
  pid_t pid = 0;
  char state = 0;
  pid_t ppid = 0;
  std::string cmdline;   // with the process title postgres sets ("postgres: startup ...")
};

// The processes whose parent is `parent`, from /proc.
std::vector<ProcEntry> children_of(pid_t parent) {
  std::vector<ProcEntry> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string dir = entry.path().string();
    std::string stat = read_file(dir + "/stat");
    size_t close = stat.rfind(')');   // the command name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    ProcEntry p;
    std::istringstream rest(stat.substr(close + 2));
    if (!(rest >> p.state >> p.ppid) || p.ppid != parent) continue;
    p.pid = std::stoi(entry.path().filename());
    p.cmdline = read_file(dir + "/cmdline");
    out.push_back(p);
  }
  return out;
}

// The test process as the reaper of orphans (PR_SET_CHILD_SUBREAPER) that does not reap them, as
// pid 1 does in some containers: a postmaster left by a killed sidecar and then killed itself stays
// a zombie. On destruction it reaps the postgres zombies it holds and stops being a subreaper.
struct NonReapingSubreaper {
  NonReapingSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~NonReapingSubreaper() {
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    for (const ProcEntry& p : children_of(getpid()))
      if (p.state == 'Z' && p.cmdline.empty() && read_file("/proc/" + std::to_string(p.pid) + "/comm") == "postgres\n")
        waitpid(p.pid, nullptr, 0);
  }
};

// A postmaster adopted by a restarted sidecar and then killed is not the sidecar's child: when
// whatever inherited it does not reap it, it stays a zombie, and kill(pid, 0) on the pid in
// postmaster.pid still succeeds. PostgreSQL then refused to start ("lock file postmaster.pid
// already exists"), the sidecar counted a failed start and revoked the lease: a failover, and the
// node stayed down while the zombie lasted. The sidecar now removes a lock file that names a
// zombie (PostgreSQL still checks that no old backend holds its shared memory) and restarts in
// place.
TEST_F(SidecarCluster, AdoptedPostmasterKilledToAZombieRestartsInPlace) {
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 30000)) << dump_log(n2);
  std::this_thread::sleep_for(std::chrono::seconds(1));   // served once: a crash is not a failed start
  set_primary_start_timeout(30);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  NonReapingSubreaper subreaper;
  n2.kill9();   // the sidecar only: postgres is orphaned to this process, which does not reap it
  size_t log_from = read_file(n2.log_file()).size();
  n2.start();
  ASSERT_TRUE(wait_until([&] { return read_file(n2.log_file()).find("adopted the running postgres", log_from) != std::string::npos; }, 20000))
      << dump_log(n2);
  pid_t zombie = n2.postmaster_pid();
  ASSERT_EQ(kill(zombie, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return n2.postmaster_pid() != zombie && is_primary(n2); }, 30000)) << dump_log(n2);
  auto member = etcd_->client().get(keys().member("n2"));
  EXPECT_TRUE(member.ok() && member->has_value()) << "the lease was revoked: a failover instead of a restart in place\n" << dump_log(n2);
}

// FINDINGS F22: a primary restarted after a crash may run without serving yet (here: archive
// recovery whose restore_command hangs, hot_standby off). Its worker starts with the postmaster
// and may already have adopted the lease, so past primary_start_timeout the sidecar stops that
// postmaster before it revokes: a lease must never be revoked under a worker that holds it.
// Its startup process is also frozen (SIGSTOP, as a process stuck on a dead disk), so a fast
// shutdown never ends: the sidecar turns to an immediate one after a few seconds instead of the
// minute an ordinary stop allows, which would hold the failover back that long.
TEST_F(SidecarCluster, PrimaryStillStartingIsStoppedBeforeItsLeaseIsRevoked) {
  SidecarNode& n2 = node("n2");
  ASSERT_TRUE(wait_until([&] { return is_primary(n2); }, 30000)) << dump_log(n2);
  // The sidecar polls a fresh postmaster every 250 ms until it has served once; a crash before
  // that counts as a failed start, which revokes at once and is not what this test is about.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  set_primary_start_timeout(2);
  int64_t lease = publish_primary_on_new_lease(n2);
  ASSERT_NE(lease, 0);
  publish_leader("n2", 4, lease);
  std::string auto_conf = n2.data_dir() + "/postgresql.auto.conf";
  std::string saved = read_file(auto_conf);
  write_file(auto_conf, saved + "restore_command = 'sleep 20; exit 1'\nhot_standby = off\n");
  chown_postgres(auto_conf);
  std::string signal = n2.data_dir() + "/recovery.signal";
  write_file(signal, "");
  chown_postgres(signal);
  pid_t crashed = n2.postmaster_pid();
  kill(crashed, SIGKILL);
  pid_t starting = 0;
  ASSERT_TRUE(wait_until([&] {
    starting = n2.postmaster_pid();
    return starting > 0 && starting != crashed && kill(starting, 0) == 0;
  }, 20000)) << dump_log(n2);
  EXPECT_FALSE(n2.accepting()) << "the restarted primary must still be in recovery";
  pid_t startup = 0;
  ASSERT_TRUE(wait_until([&] {
    for (const ProcEntry& p : children_of(starting))
      if (p.cmdline.find("startup") != std::string::npos) startup = p.pid;
    return startup > 0;
  }, 20000)) << dump_log(n2);
  ASSERT_EQ(kill(startup, SIGSTOP), 0);
  bool revoked = wait_until([&] {
    auto kv = etcd_->client().get(keys().member("n2"));
    return kv.ok() && !kv->has_value();
  }, 30000);
  bool starting_alive = kill(starting, 0) == 0;
  std::string log = dump_log(n2);
  // Back to a plain primary for the tests after this one. The frozen startup process goes too,
  // whatever became of its postmaster (a failed run killed that one and left it stopped).
  n2.stop();
  if (kill(startup, 0) == 0) kill(startup, SIGKILL);
  write_file(auto_conf, saved);
  chown_postgres(auto_conf);
  unlink(signal.c_str());
  n2.start();
  ASSERT_TRUE(revoked) << log;
  EXPECT_FALSE(starting_alive) << "the lease was revoked while the postmaster it may belong to still ran\n" << log;
  EXPECT_NE(log.find("stopping it before the lease is revoked"), std::string::npos) << log;
  EXPECT_TRUE(wait_until([&] { return is_primary(n2); }, 60000)) << dump_log(n2);
}

TEST_F(SidecarCluster, ForeignDataDirectoryIsRefused) {
  SidecarNode& n4 = node("n4");
  std::string cmd = "runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D " + n4.data_dir() + " >/dev/null 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0);
  n4.start();
  ASSERT_TRUE(n4.process()->wait_exit(20000)) << dump_log(n4);
  EXPECT_EQ(n4.process()->exit_code(), 1);
  EXPECT_NE(read_file(n4.log_file()).find("belongs to another cluster"), std::string::npos) << dump_log(n4);
  EXPECT_FALSE(n4.accepting());
}

}  // namespace
