// Operator verbs on a real cluster (issue 16): reinit re-clones a replica from the primary;
// remove clears what a stopped member left in etcd and refuses members that still matter.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "fixture.hpp"

namespace pg_ha::test {
namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The directories a re-clone moved aside: <data_dir>.old-<UTC timestamp>.
int moved_aside(const std::string& data_dir) {
  std::string parent = data_dir.substr(0, data_dir.rfind('/'));
  std::string prefix = data_dir.substr(data_dir.rfind('/') + 1) + ".old-";
  int n = 0;
  if (DIR* d = ::opendir(parent.c_str())) {
    while (dirent* e = ::readdir(d)) n += std::string(e->d_name).rfind(prefix, 0) == 0;
    ::closedir(d);
  }
  return n;
}

std::string error_of(const Result<Rows>& r) { return r.ok() ? std::string("(no error)") : r.error().message; }

TEST_F(Cluster, ReinitReclonesAReplicaWhichStreamsAgain) {
  start();
  int replica = primary_ == 0 ? 1 : 0;
  int other = 3 - primary_ - replica;
  std::string marker = c_->data_directory(replica) + "/reinit_marker";
  std::ofstream(marker) << "left by the test\n";
  ASSERT_TRUE(file_exists(marker));
  std::string sysid = value(replica, "SELECT system_identifier FROM pg_control_system()");
  control(primary_, "CREATE TABLE reinit_t(i int); INSERT INTO reinit_t SELECT generate_series(1, 1000)");

  // Refusals: the primary, an unknown node. Nothing is recorded.
  auto primary_refused = c_->query(other, "SELECT pg_ha.reinit('" + c_->name(primary_) + "')");
  EXPECT_NE(error_of(primary_refused).find("is the primary"), std::string::npos) << error_of(primary_refused);
  auto unknown = c_->query(other, "SELECT pg_ha.reinit('nosuch')");
  EXPECT_NE(error_of(unknown).find("no member \"nosuch\""), std::string::npos) << error_of(unknown);
  EXPECT_EQ(c_->etcd_value("reinit/" + c_->name(primary_)), "");

  // Asked on another replica: the request goes through etcd to the node's worker and sidecar.
  int64_t asked = monotonic_ms();
  control(other, "SELECT pg_ha.reinit('" + c_->name(replica) + "')");
  ASSERT_TRUE(c_->wait_until([&] { return !file_exists(marker); }, kFailoverMs))
      << "the data directory of " << c_->name(replica) << " was not replaced\n" << logs();
  ASSERT_TRUE(c_->wait_until([&] { return c_->etcd_value("reinit/" + c_->name(replica)).empty(); }, kFailoverMs))
      << "the reinit request stays in etcd\n" << logs();
  ASSERT_EQ(c_->wait_healthy(2, kFailoverMs), primary_) << logs();
  std::printf("[ measured ] reinit of %s: streaming again %lld ms after the request\n", c_->name(replica).c_str(),
              static_cast<long long>(monotonic_ms() - asked));
  EXPECT_EQ(moved_aside(c_->data_directory(replica)), 1) << "the old data directory is kept aside";
  EXPECT_EQ(value(replica, "SELECT system_identifier FROM pg_control_system()"), sysid);
  control(primary_, "INSERT INTO reinit_t VALUES (1001)");
  EXPECT_TRUE(c_->wait_until([&] { return value(replica, "SELECT count(*) FROM reinit_t") == "1001"; }, 20000))
      << "the reinitialized replica does not replay new commits\n" << logs();
}

TEST_F(Cluster, RemoveClearsAStoppedMemberAndRefusesLiveOnes) {
  start();
  int gone = primary_ == 0 ? 1 : 0;
  std::string name = c_->name(gone);
  auto running = c_->query(primary_, "SELECT pg_ha.remove('" + name + "')");
  EXPECT_NE(error_of(running).find("is running"), std::string::npos) << error_of(running);
  auto primary_refused = c_->query(primary_, "SELECT pg_ha.remove('" + c_->name(primary_) + "')");
  EXPECT_NE(error_of(primary_refused).find("is the primary"), std::string::npos) << error_of(primary_refused);

  // A restart asked for a node that then stopped for good stays in etcd until it is removed.
  control(primary_, "SELECT pg_ha.restart('" + name + "')");
  c_->stop_node(gone);
  ASSERT_TRUE(c_->wait_until([&] {
    return value(primary_, "SELECT count(*) FROM pg_ha.members() WHERE name = '" + name + "'") == "0";
  }, kFailoverMs)) << logs();
  EXPECT_NE(c_->etcd_value("restart/" + name), "");
  control(primary_, "SELECT pg_ha.remove('" + name + "')");
  EXPECT_EQ(c_->etcd_value("restart/" + name), "");
  auto again = c_->query(primary_, "SELECT pg_ha.remove('" + name + "')");
  EXPECT_NE(error_of(again).find("nothing"), std::string::npos) << error_of(again);
  EXPECT_EQ(c_->wait_healthy(1, kFailoverMs), primary_) << logs();
}

// Issue 16 item 12: a tag changed in the sidecar's config file and a SIGHUP of the sidecar reach
// the member record and the server's settings with a reload: the postmaster keeps running.
TEST_F(Cluster, TagChangeIsAppliedBySighupWithoutARestart) {
  start();
  int replica = primary_ == 0 ? 1 : 0;
  std::string name = c_->name(replica);
  auto pid = c_->postmaster_pid(replica);
  ASSERT_TRUE(pid.has_value());
  std::string tags_sql = "SELECT tags->>'nofailover' || ',' || (tags->>'priority') FROM pg_ha.members() WHERE name = '" + name + "'";
  ASSERT_EQ(value(primary_, tags_sql), "false,100");
  std::string data = c_->data_directory(replica);
  std::ofstream(data.substr(0, data.rfind('/')) + "/sidecar.conf", std::ios::app) << "nofailover = on\npriority = 7\n";
  int64_t asked = monotonic_ms();
  ASSERT_EQ(::kill(c_->sidecar_pid(replica), SIGHUP), 0);
  ASSERT_TRUE(c_->wait_until([&] { return value(primary_, tags_sql) == "true,7"; }, 20000))
      << "the member record of " << name << " shows " << value(primary_, tags_sql) << "\n" << logs();
  std::printf("[ measured ] tag change by SIGHUP: in the member record %lld ms after the signal\n",
              static_cast<long long>(monotonic_ms() - asked));
  EXPECT_EQ(c_->show(replica, "pg_ha.nofailover"), "on");
  EXPECT_EQ(c_->postmaster_pid(replica), pid) << "postgres was restarted for a tag";
  EXPECT_EQ(c_->sidecar_exit(replica, 0), std::nullopt) << "the sidecar exited on SIGHUP";
  // The node is no candidate any more: a switchover to it is refused.
  auto refused = c_->query(primary_, "SELECT pg_ha.switchover('" + name + "')");
  EXPECT_NE(error_of(refused).find("nofailover"), std::string::npos) << error_of(refused);
}

}  // namespace
}  // namespace pg_ha::test
