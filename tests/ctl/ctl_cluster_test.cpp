// pg_hactl against a real cluster (tests/integration's harness: etcd, three sidecars, PostgreSQL
// 15 with pg_ha). pg_hactl runs as a child process, as an operator would run it; each check
// looks at its exit code, stdout and stderr, and at the cluster itself through the harness.
// One cluster for the whole suite (started once: the tests run in order and build on each other).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cluster.hpp"
#include "harness/http.hpp"
#include "harness/ports.hpp"

namespace pg_ha::test {
namespace {

using json = nlohmann::json;
constexpr int kStartMs = 90000;

struct CtlRun {
  int code = -1;
  std::string out, err;
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CtlCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = std::make_unique<PgHaCluster>();
    primary_ = cluster_->wait_healthy(2, kStartMs);
  }
  static void TearDownTestSuite() { cluster_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(primary_) << "the cluster did not become healthy\n" << logs();
  }

  static std::string logs() {
    std::string out;
    for (int i = 0; cluster_ && i < cluster_->size(); ++i) out += cluster_->logs(i) + "\n";
    return out;
  }

  // Runs pg_hactl with `args` (and -d <node's conninfo> unless the args carry their own),
  // feeding `input` on stdin; `env` is prepended as NAME=value shell assignments.
  static CtlRun ctl(std::vector<std::string> args, int node = -1, const std::string& input = "",
                    const std::string& env = "") {
    std::string dir = cluster_->dir();
    std::string cmd = env + " " + PG_HA_CTL_BIN;
    if (node >= 0) cmd += " -d " + quoted(cluster_->conninfo(node));
    for (const auto& a : args) cmd += " " + quoted(a);
    { std::ofstream(dir + "/ctl.in") << input; }
    cmd += " < " + dir + "/ctl.in 2> " + dir + "/ctl.err";
    CtlRun r;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_all(dir + "/ctl.err");
    return r;
  }

  static std::string leader(int node) {
    auto r = cluster_->query(node, "SELECT leader FROM pg_ha.cluster()");
    return r.ok() && !r->empty() ? (*r)[0][0] : "";
  }
  static std::string config_value(int node, const std::string& path) {
    auto r = cluster_->query(node, "SELECT pg_ha.config() #>> '{" + path + "}'");
    return r.ok() && !r->empty() ? (*r)[0][0] : "";
  }
  static std::string some_replica() {
    for (int i = 0; i < cluster_->size(); ++i)
      if (i != *primary_) return cluster_->name(i);
    return "";
  }

  static std::unique_ptr<PgHaCluster> cluster_;
  static std::optional<int> primary_;
};

std::unique_ptr<PgHaCluster> CtlCluster::cluster_;
std::optional<int> CtlCluster::primary_;

std::string describe(const CtlRun& r) { return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err; }

TEST_F(CtlCluster, ListShowsThreeMembersWithOnePrimary) {
  CtlRun r = ctl({"list"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("+ Cluster: it (term "), std::string::npos) << r.out;
  for (int i = 0; i < 3; ++i) EXPECT_NE(r.out.find("| " + cluster_->name(i) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| primary "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| streaming "), std::string::npos) << r.out;

  // The same from a replica, as JSON.
  int replica = cluster_->index_of(some_replica());
  r = ctl({"list", "--format", "json"}, replica);
  ASSERT_EQ(r.code, 0) << describe(r);
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["members"].size(), 3u) << r.out;
  EXPECT_EQ(doc["leader"], cluster_->name(*primary_));
  EXPECT_EQ(doc["cluster"], "it");
}

TEST_F(CtlCluster, TopologyHistoryAndShowConfig) {
  CtlRun r = ctl({"topology"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("| " + cluster_->name(*primary_) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| + "), std::string::npos) << r.out;
  r = ctl({"history"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("| Term | Reason"), std::string::npos) << r.out;
  r = ctl({"show-config"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(json::parse(r.out).value("ttl", 0), 5) << r.out;
}

TEST_F(CtlCluster, EditConfigSetShowsTheDiffAndChangesTheConfig) {
  CtlRun r = ctl({"edit-config", "--set", "maximum_lag_on_failover=2097152", "--pg", "work_mem=8MB", "--force"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("+  \"maximum_lag_on_failover\": 2097152"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+      \"work_mem\": \"8MB\""), std::string::npos) << r.out;
  int replica = cluster_->index_of(some_replica());
  EXPECT_TRUE(cluster_->wait_until([&] { return config_value(replica, "maximum_lag_on_failover") == "2097152"; }, 10000));
  EXPECT_EQ(config_value(replica, "postgresql,parameters,work_mem"), "8MB");
  EXPECT_TRUE(cluster_->wait_until([&] { return cluster_->show(replica, "work_mem") == "8MB"; }, 15000)) << logs();

  // Asked and declined: nothing changes, exit 1.
  r = ctl({"edit-config", "--set", "maximum_lag_on_failover=4194304"}, *primary_, "n\n");
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.err.find("aborted"), std::string::npos) << r.err;
  // Through $EDITOR (a sed script here), confirmed on stdin.
  std::string editor = cluster_->dir() + "/editor.sh";
  {
    std::ofstream(editor) << "#!/bin/sh\nsed -i 's/\"maximum_lag_on_failover\": 2097152/\"maximum_lag_on_failover\": 3145728/' \"$1\"\n";
  }
  ASSERT_EQ(::chmod(editor.c_str(), 0755), 0);
  r = ctl({"edit-config"}, *primary_, "y\n", "EDITOR=" + editor);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(cluster_->wait_until([&] { return config_value(*primary_, "maximum_lag_on_failover") == "3145728"; }, 10000));
  // No change: nothing asked, exit 0.
  r = ctl({"edit-config", "--set", "maximum_lag_on_failover=3145728"}, *primary_);
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("no changes"), std::string::npos) << r.out;
}

TEST_F(CtlCluster, EditConfigRefusalsAndUsageErrors) {
  CtlRun r = ctl({"edit-config", "--set", "ttl=0", "--force"}, *primary_);
  EXPECT_EQ(r.code, 1) << describe(r);   // refused by the cluster's validation
  EXPECT_NE(r.err.find("ttl"), std::string::npos) << r.err;
  r = ctl({"edit-config", "--set", "ttl", "--force"}, *primary_);
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.err.find("is not key=value"), std::string::npos) << r.err;
  r = ctl({"failover"}, *primary_);
  EXPECT_EQ(r.code, 2) << describe(r);   // --candidate is required
  EXPECT_EQ(config_value(*primary_, "ttl"), "5");
}

TEST_F(CtlCluster, PauseAndResume) {
  CtlRun r = ctl({"pause"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(cluster_->wait_until([&] { return ctl({"list"}, *primary_).out.find("Maintenance mode: on") != std::string::npos; }, 10000));
  r = ctl({"pause"}, *primary_);
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_NE(r.err.find("already paused"), std::string::npos) << r.err;
  r = ctl({"resume", "--format", "json"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(json::parse(r.out).value("action", ""), "resume") << r.out;
  EXPECT_TRUE(cluster_->wait_until([&] {
    auto q = cluster_->query(*primary_, "SELECT paused FROM pg_ha.cluster()");
    return q.ok() && (*q)[0][0] == "f";
  }, 10000));
}

TEST_F(CtlCluster, BadMemberNameIsRefusedWithAClearMessage) {
  for (const char* verb : {"switchover", "failover"}) {
    CtlRun r = ctl({verb, "--candidate", "nosuchnode", "--force"}, *primary_);
    EXPECT_EQ(r.code, 1) << verb << ": " << describe(r);
    EXPECT_NE(r.err.find("nosuchnode"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(cluster_->name(*primary_)), std::string::npos) << "should list the members: " << r.err;
  }
  CtlRun r = ctl({"restart", "nosuchnode", "--force"}, *primary_);
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_EQ(leader(*primary_), cluster_->name(*primary_));
}

TEST_F(CtlCluster, WrongDsnCannotConnect) {
  int port = pick_free_port();
  CtlRun r = ctl({"-d", "host=127.0.0.1 port=" + std::to_string(port) + " connect_timeout=2", "list"});
  EXPECT_EQ(r.code, 3) << describe(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = ctl({"-d", "service=no_such_service_here", "pause"});
  EXPECT_EQ(r.code, 3) << describe(r);
}

TEST_F(CtlCluster, RestartPendingWithNothingPendingDoesNothing) {
  CtlRun r = ctl({"restart", "--pending", "--force"}, *primary_);
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("no member has a pending restart"), std::string::npos) << r.out;
}

// members().sync marks the recorded synchronous standby; pg_hactl list shows it as "sync standby".
TEST_F(CtlCluster, SynchronousStandbyIsMarked) {
  auto sync_count = [&] {
    auto q = cluster_->query(*primary_, "SELECT count(*) FILTER (WHERE sync) FROM pg_ha.members()");
    return q.ok() ? (*q)[0][0] : "";
  };
  EXPECT_EQ(sync_count(), "0");
  CtlRun r = ctl({"edit-config", "--set", "synchronous_mode=on", "--force"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(cluster_->wait_until([&] { return sync_count() == "1"; }, 20000)) << logs();
  auto q = cluster_->query(*primary_, "SELECT name FROM pg_ha.members() WHERE sync");
  ASSERT_TRUE(q.ok() && q->size() == 1);
  EXPECT_EQ((*q)[0][0], cluster_->query(*primary_, "SELECT sync_standbys[1] FROM pg_ha.cluster()")->at(0).at(0));
  r = ctl({"list"}, *primary_);
  EXPECT_NE(r.out.find("| " + (*q)[0][0] + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| sync standby |"), std::string::npos) << r.out;
  r = ctl({"edit-config", "--set", "synchronous_mode=off", "--force"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(cluster_->wait_until([&] { return sync_count() == "0"; }, 20000)) << logs();
}

TEST_F(CtlCluster, SwitchoverMovesThePrimary) {
  std::string old = cluster_->name(*primary_);
  std::string target = some_replica();
  ASSERT_TRUE(cluster_->wait_healthy(2, kStartMs)) << logs();
  CtlRun r = ctl({"switchover", "--candidate", target, "--force"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r) << logs();
  EXPECT_NE(r.out.find(target + " is the new primary"), std::string::npos) << r.out;
  std::optional<int> now;
  ASSERT_TRUE(cluster_->wait_until([&] { now = cluster_->writable_primary(); return now && cluster_->name(*now) == target; }, 30000))
      << logs();
  primary_ = now;
  r = ctl({"history", "--format", "json"}, *primary_);
  ASSERT_EQ(r.code, 0) << describe(r);
  json h = json::parse(r.out);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.back().value("reason", ""), "switchover") << r.out;
  EXPECT_EQ(h.back().value("old_primary", ""), old) << r.out;
}

// Every node's real /metrics passes the real Prometheus parser and the format's rules
// (tests/sidecar/check_metrics.py): before, "# HELP pg_ha_role" came once per role value.
// It runs after the switchover: the old primary may still be restarting as a standby, and a node
// whose postgres is down has no role series yet, so each node is read once its postgres answers.
TEST_F(CtlCluster, MetricsAreValidPrometheusText) {
  ASSERT_TRUE(cluster_->wait_healthy(2, kStartMs)) << logs();
  for (int i = 0; i < cluster_->size(); ++i) {
    std::string url = "http://127.0.0.1:" + std::to_string(cluster_->http_port(i)) + "/metrics";
    std::string role_series = "pg_ha_role{node=\"" + cluster_->name(i) + "\",role=\"primary\"}";
    HttpResult h;
    bool has_role = cluster_->wait_until([&] {
      h = http_request(url, "");
      return h.ok && h.status == 200 && h.body.find(role_series) != std::string::npos;
    }, 60000);
    ASSERT_TRUE(h.ok && h.status == 200) << cluster_->name(i) << ": " << h.status << " " << h.error;
    EXPECT_TRUE(has_role) << h.body;
    std::string file = cluster_->dir() + "/metrics-" + cluster_->name(i) + ".txt";
    { std::ofstream(file) << h.body; }
    std::string cmd = std::string("/usr/bin/python3 ") + PG_HA_METRICS_CHECK + " " + file + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cluster_->name(i) << ":\n" << out << "\n" << h.body;
  }
}

// A rolling restart through a replica. The restart of the member pg_hactl is connected to ends
// its connection within milliseconds: before, the requests after it could be lost with it (exit
// 3, members never asked), and the last one's answer too. Now that member is asked last, and its
// restart is confirmed by its new start time once it answers again.
TEST_F(CtlCluster, RestartAllThroughAReplicaRestartsEveryMember) {
  ASSERT_TRUE(cluster_->wait_healthy(2, kStartMs)) << logs();
  auto started = [&](int i) {
    auto q = cluster_->query(i, "SELECT pg_postmaster_start_time()::text");
    return q.ok() && !q->empty() ? (*q)[0][0] : std::string();
  };
  std::vector<std::string> before;
  for (int i = 0; i < cluster_->size(); ++i) before.push_back(started(i));
  CtlRun r = ctl({"restart", "--all", "--force"}, cluster_->index_of(some_replica()));
  ASSERT_EQ(r.code, 0) << describe(r) << logs();
  for (int i = 0; i < cluster_->size(); ++i) {
    ASSERT_FALSE(before[i].empty()) << cluster_->name(i);
    EXPECT_TRUE(cluster_->wait_until([&] { std::string now = started(i); return !now.empty() && now != before[i]; }, 60000))
        << cluster_->name(i) << " was not restarted\n" << describe(r) << logs();
  }
  EXPECT_TRUE(cluster_->wait_healthy(2, kStartMs)) << logs();
}

}  // namespace
}  // namespace pg_ha::test
