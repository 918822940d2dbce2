// Issue 12 end to end: a duplicate member name is refused and the original untouched; a replica
// whose needed WAL is gone recovers by itself; a switchover restarts no uninvolved replica.
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>

#include <thread>

#include "fixture.hpp"

namespace pg_ha::test {
namespace {

std::string field(const std::string& json, const std::string& name) {
  std::string key = "\"" + name + "\":";
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  size_t from = at + key.size();
  if (json[from] == '"') return json.substr(from + 1, json.find('"', from + 1) - from - 1);
  return json.substr(from, json.find_first_of(",}", from) - from);
}

bool dir_has_entries(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (!d) return false;
  int n = 0;
  while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  closedir(d);
  return n > 0;
}

// Directories named <data_dir>.old-* (data moved aside by a re-clone).
int moved_aside(const std::string& data_dir) {
  std::string parent = data_dir.substr(0, data_dir.rfind('/'));
  std::string prefix = data_dir.substr(data_dir.rfind('/') + 1) + ".old-";
  DIR* d = opendir(parent.c_str());
  if (!d) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) n += std::string(e->d_name).rfind(prefix, 0) == 0;
  closedir(d);
  return n;
}

TEST_F(Cluster, DuplicateMemberNameIsRefusedAndTheOriginalIsUntouched) {
  start();
  int original = (primary_ + 1) % c_->size();
  std::string name = c_->name(original);
  std::string record = c_->etcd_value("members/" + name);
  std::string id = field(record, "member_id");
  ASSERT_FALSE(id.empty()) << "the member record carries the node's identity: " << record;
  EXPECT_FALSE(field(record, "system_identifier").empty()) << record;
  auto pid = c_->postmaster_pid(original);
  ASSERT_TRUE(pid);

  int dup = c_->add_node(name);
  auto status = c_->sidecar_exit(dup, 30000);
  ASSERT_TRUE(status.has_value()) << "a second node named " << name << " was not refused\n" << c_->logs(dup);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << "status " << *status;
  std::string log = c_->logs(dup);
  EXPECT_NE(log.find("is held by a live member with another identity"), std::string::npos) << log;
  EXPECT_NE(log.find(id), std::string::npos) << "the error names the other identity\n" << log;
  EXPECT_FALSE(dir_has_entries(c_->data_directory(dup))) << "nothing was cloned";

  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string after = c_->etcd_value("members/" + name);
  EXPECT_EQ(field(after, "member_id"), id) << after;
  EXPECT_EQ(field(after, "port"), std::to_string(c_->port(original))) << after;
  EXPECT_EQ(c_->postmaster_pid(original), pid) << "the original was restarted";
  // The original is still the one a switchover reaches.
  ASSERT_TRUE(c_->query(primary_, "SELECT pg_ha.switchover('" + name + "')").ok());
  EXPECT_TRUE(c_->wait_until([&] { return c_->writable_primary() == original; }, kFailoverMs)) << logs();
  EXPECT_EQ(c_->count_writable(), 1);
}

TEST_F(Cluster, SwitchoverRestartsNoUninvolvedReplica) {
  PG_HA_LONG_ONLY();
  start();
  start_writer();
  for (int round = 0; round < 3; ++round) {
    int target = (primary_ + 1) % c_->size();
    int other = (primary_ + 2) % c_->size();
    auto target_pid = c_->postmaster_pid(target);
    auto other_pid = c_->postmaster_pid(other);
    ASSERT_TRUE(target_pid && other_pid);
    old_primary_ = primary_;   // each round's checks are against that round's old primary
    fault_ms_ = monotonic_ms();
    auto ok = c_->query(primary_, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    ASSERT_TRUE(c_->wait_until([&] { return c_->writable_primary() == target; }, kFailoverMs)) << logs();
    ASSERT_TRUE(c_->wait_healthy(2, kFailoverMs)) << logs();
    EXPECT_EQ(c_->postmaster_pid(other), other_pid)
        << "round " << round << ": " << c_->name(other) << " was not part of the switchover but was restarted\n"
        << c_->logs(other);
    EXPECT_EQ(c_->postmaster_pid(target), target_pid) << "the candidate promotes in place";
    primary_ = target;
  }
  finish(primary_, true);
}

TEST_F(Cluster, ReplicaWhoseWalIsGoneRecoversByItself) {
  PG_HA_LONG_ONLY();
  ClusterOptions o;
  // No WAL kept for the stopped replica: not by wal_keep_size, and its slot on the primary is
  // invalidated at the first checkpoint (max_slot_wal_keep_size 0); the primary then drops and
  // re-makes it, and the replica still finds its WAL gone.
  o.extra_node_settings = {"wal_keep_size = '0'", "max_slot_wal_keep_size = '0'"};
  start(o);
  int replica = (primary_ + 1) % c_->size();
  c_->stop_node(replica);
  // The primary moves on and recycles the WAL the stopped replica would need.
  ASSERT_TRUE(c_->query(primary_, "CREATE TABLE gone (v int)").ok());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(c_->query(primary_, "INSERT INTO gone SELECT generate_series(1, 1000); SELECT pg_switch_wal()").ok());
    if (i % 2 == 1) {
      ASSERT_TRUE(c_->query(primary_, "CHECKPOINT").ok());
    }
  }
  ASSERT_TRUE(c_->query(primary_, "INSERT INTO gone VALUES (-1)").ok());
  c_->start_node(replica);
  std::string seen;
  bool recovered = c_->wait_until([&] {
    std::string s = value(replica, "SELECT state || ': ' || reason FROM pg_ha.node_status()");
    if (s.rfind("rewinding", 0) == 0 || s.rfind("recloning", 0) == 0 || s.find("no WAL received") != std::string::npos) seen = s;
    return value(replica, "SELECT count(*) FROM gone WHERE v = -1") == "1";
  }, 120000);
  ASSERT_TRUE(recovered) << c_->name(replica) << " stayed stuck\n" << c_->logs(replica);
  std::printf("[ measured ] the stuck replica said: %s\n", seen.c_str());
  EXPECT_GE(moved_aside(c_->data_directory(replica)), 1) << "a re-clone keeps the old data aside";
  EXPECT_TRUE(c_->wait_healthy(2, kFailoverMs)) << logs();
}

// The new primary of a switchover dies while the old one is being demoted (stopped, and perhaps
// rewound from it): the third node must take over, and the old primary, whatever state its
// demotion left its data in, must rejoin as its replica.
TEST_F(Cluster, NewPrimaryKilledWhileTheOldOneIsDemotedLeavesAWorkingCluster) {
  PG_HA_LONG_ONLY();
  start();
  start_writer();
  int old = primary_, target = (primary_ + 1) % c_->size(), third = (primary_ + 2) % c_->size();
  auto stops = [&] {
    std::string log = c_->sidecar_log(old);
    size_t n = 0;
    for (size_t at = log.find("stopping postgres"); at != std::string::npos; at = log.find("stopping postgres", at + 1)) ++n;
    return n;
  };
  size_t before = stops();
  control(old, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
  ASSERT_TRUE(c_->wait_until([&] { return stops() > before; }, kFailoverMs))
      << c_->name(old) << " was never stopped for its demotion\n" << logs();
  primary_ = target;
  kill_primary_node();
  auto np = wait_new_primary(target);
  ASSERT_TRUE(np) << "no new primary after the switchover's target died\n" << logs();
  EXPECT_EQ(*np, third) << "the old primary, being demoted, became primary again";
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(1, 1000) == *np; }, kFailoverMs))
      << "the old primary did not rejoin\n" << logs();
  c_->start_node(target);
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == *np; }, kFailoverMs))
      << "the killed node did not rejoin\n" << logs();
  finish(*np, false);
}

// A DBA promotes a replica by hand (pg_promote(), pg_ctl promote): it holds no lease, so its fence
// refuses every commit, and its worker makes it a replica of the primary again (pg_rewind). Twice:
// the second demotion in the same term, toward the same primary, was taken by the sidecar for the
// first one, already done, and the node stayed a fenced primary for good. The primary's writes
// are not disturbed, and nothing acknowledged is lost.
TEST_F(Cluster, AReplicaPromotedByHandCommitsNothingAndRejoinsEachTime) {
  start();
  ASSERT_TRUE(c_->query(primary_, "CREATE TABLE rogue_probe (x int)").ok());
  start_writer();
  int rogue = (primary_ + 1) % c_->size();
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE("promotion by hand #" + std::to_string(round));
    ASSERT_TRUE(c_->wait_until([&] { return value(rogue, "SELECT count(*) FROM rogue_probe") == "0"; }, 20000)) << logs();
    auto promoted = c_->query(rogue, "SELECT pg_promote()");
    ASSERT_TRUE(promoted.ok()) << promoted.error().message;
    // Until its worker demotes it: a commit fails with the fence's error (the proof that it ran as
    // a primary at all), never succeeds.
    int committed = 0;
    std::string errors;
    bool fenced_seen = c_->wait_until([&] {
      auto r = c_->query(rogue, "INSERT INTO rogue_probe VALUES (1)");
      if (r.ok()) ++committed;
      if (!r.ok() && errors.find(r.error().message) == std::string::npos) errors += r.error().message + "\n";
      return !r.ok() && r.error().message.find("fenced") != std::string::npos;
    }, 20000);
    EXPECT_TRUE(fenced_seen) << "the promoted replica never refused a commit with the fence's error; errors:\n" << errors;
    EXPECT_EQ(committed, 0) << "the replica promoted by hand acknowledged commits";
    ASSERT_TRUE(c_->wait_until([&] { return value(rogue, "SELECT pg_is_in_recovery()") == "t" &&
                                            c_->wait_healthy(2, 1000) == primary_; }, kFailoverMs))
        << "the replica promoted by hand did not rejoin\n" << logs();
  }
  EXPECT_EQ(value(primary_, "SELECT count(*) FROM rogue_probe"), "0");
  finish(primary_, true);
}

}  // namespace
}  // namespace pg_ha::test
