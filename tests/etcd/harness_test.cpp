// The harness itself: processes die with their owner, ports are distinct, clusters of 5 work.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "harness/etcd_cluster.hpp"
#include "harness/ports.hpp"
#include "harness/process.hpp"
#include "harness/temp_dir.hpp"

namespace pg_ha::test {
namespace {

// A reaped or zombie-free check: kill(pid, 0) also succeeds for zombies, so look at /proc state.
bool pid_alive(pid_t pid) {
  std::string stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const std::exception&) {
    return false;
  }
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::string read_file_or_empty(const std::string& path) {
  try {
    return read_file(path);
  } catch (const std::exception&) {
    return "";
  }
}

TEST(Harness, PortsAreDistinct) {
  std::set<int> ports;
  for (int p : pick_free_ports(50)) ports.insert(p);
  EXPECT_EQ(ports.size(), 50u);
}

TEST(Harness, ChildOutputGoesToItsLogAndTheGroupDiesWithIt) {
  TempDir dir("harness");
  std::string log = dir.sub("child.log");
  pid_t grandchild = 0;
  {
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "echo hello; sleep 60 & echo $! > " + dir.sub("gc.pid") + "; wait"};
    o.log_path = log;
    ChildProcess child = ChildProcess::spawn(o);
    for (int i = 0; i < 200 && read_file_or_empty(dir.sub("gc.pid")).empty(); ++i) ::usleep(10000);
    grandchild = std::stoi(read_file(dir.sub("gc.pid")));
    EXPECT_TRUE(child.running());
    EXPECT_TRUE(pid_alive(grandchild));
  }  // destruction kills the process group
  for (int i = 0; i < 100 && pid_alive(grandchild); ++i) ::usleep(10000);
  EXPECT_FALSE(pid_alive(grandchild));
  EXPECT_EQ(read_file(log), "hello\n");
}

TEST(Harness, StopWaitAndExecFailure) {
  SpawnOptions o;
  o.argv = {"sleep", "60"};
  ChildProcess child = ChildProcess::spawn(o);
  EXPECT_FALSE(child.wait(50).has_value());
  int status = child.stop(2000);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  SpawnOptions missing;
  missing.argv = {"/nonexistent/binary"};
  EXPECT_THROW(ChildProcess::spawn(missing), std::runtime_error);
  SpawnOptions ok;
  ok.argv = {"true"};
  EXPECT_EQ(run_command(ok), 0);
}

TEST(Harness, RunsAsPostgresWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root";
  TempDir dir("harness");
  SpawnOptions o;
  o.argv = {"id", "-un"};
  o.log_path = dir.sub("id.log");
  o.run_as_user = "postgres";
  ASSERT_EQ(run_command(o), 0);
  EXPECT_EQ(read_file(o.log_path), "postgres\n");
}

TEST(Harness, FiveMemberClusterHasALeaderAndSurvivesTwoCrashes) {
  EtcdClusterOptions o;
  o.members = 5;
  EtcdCluster etcd(o);
  EXPECT_EQ(etcd.endpoints().size(), 5u);
  int leader = etcd.leader_index();
  ASSERT_GE(leader, 0);
  etcd.kill9(leader);
  etcd.kill9((leader + 1) % 5);
  etcd.wait_healthy();
  int new_leader = -1;
  for (int i = 0; i < 100 && new_leader < 0; ++i) {
    new_leader = etcd.leader_index();
    ::usleep(50000);
  }
  EXPECT_GE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
}

}  // namespace
}  // namespace pg_ha::test
