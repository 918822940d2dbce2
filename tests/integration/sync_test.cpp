// Synchronous replication end to end (docs/protocol.md, "Synchronous replication"): no
// acknowledged commit may be lost when the primary dies (I3), the synchronous standby is replaced
// when it stops, strict mode waits instead of going asynchronous, and the mode can be switched at
// runtime under load. Same fixture and checks as integration_test.cpp.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "fixture.hpp"

namespace pg_ha::test {
namespace {

class SyncCluster : public Cluster {
 protected:
  // pg_ha.cluster().sync_standbys as seen on `node` ("{a,b}" parsed).
  std::vector<std::string> sync_standbys(int node) const {
    std::string v = value(node, "SELECT sync_standbys FROM pg_ha.cluster()");
    std::vector<std::string> out;
    if (v.size() < 2) return out;
    std::stringstream in(v.substr(1, v.size() - 2));
    for (std::string item; std::getline(in, item, ',');) {
      if (!item.empty()) out.push_back(item);
    }
    return out;
  }
  static bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }
  // Steady synchronous state on the primary: the recorded set names only standbys (the shrink
  // after a new term or a change is done), each of them named in synchronous_standby_names.
  bool sync_steady(int primary, int count) const {
    auto rec = sync_standbys(primary);
    std::string ssn = c_->show(primary, "synchronous_standby_names");
    if (static_cast<int>(rec.size()) != count || has(rec, c_->name(primary))) return false;
    for (const std::string& n : rec) {
      if (ssn.find("\"" + n + "@") == std::string::npos) return false;   // named as name@identity
    }
    return true;
  }
  std::string describe_sync(int primary) const {
    std::string rec;
    for (const std::string& n : sync_standbys(primary)) rec += (rec.empty() ? "" : ",") + n;
    return "recorded {" + rec + "}, synchronous_standby_names '" + c_->show(primary, "synchronous_standby_names") + "'";
  }
  // For a failure message: who acknowledged each id, when (relative to `fault_ms`), and which
  // nodes hold it now.
  std::string describe_acks(const std::vector<int64_t>& ids, int64_t fault_ms) const {
    std::string out;
    auto acks = writer_->acks();
    for (size_t k = 0; k < ids.size() && k < 5; ++k) {
      for (const Ack& a : acks) {
        if (a.id != ids[k]) continue;
        int node = -1;
        for (int i = 0; i < c_->size(); ++i) if (c_->port(i) == a.port) node = i;
        out += "\n  id " + std::to_string(a.id) + " acknowledged by " + (node >= 0 ? c_->name(node) : "?") +
               ": session opened " + std::to_string(a.conn_ms - fault_ms) + " ms, sent " +
               std::to_string(a.sent_ms - fault_ms) + " ms, acknowledged " + std::to_string(a.at_ms - fault_ms) +
               " ms after the fault; present on:";
        for (int i = 0; i < c_->size(); ++i) {
          std::string n = value(i, "SELECT count(*) FROM it_writes WHERE id = " + std::to_string(a.id));
          out += " " + c_->name(i) + "=" + (n.empty() ? "?" : n);
        }
      }
    }
    return out;
  }
  // The one standby the primary currently names (sync_steady with count 1 must hold).
  int sync_standby(int primary) const {
    auto rec = sync_standbys(primary);
    return rec.size() == 1 ? c_->index_of(rec[0]) : -1;
  }
};

// Primary losses in a row under a writer (three; ten in the long run), alternating a postmaster kill (the sidecar releases
// the lease at once: primary_start_timeout 0) and a whole-node kill. Each time another node
// becomes primary, the killed one rejoins before the next round, and no acknowledged commit is
// missing on the new primary.
TEST_F(SyncCluster, PrimaryKillsInARowLoseNoAcknowledgedCommit) {
  const int rounds = long_run() ? 10 : 3;
  ClusterOptions o;
  o.config_json = config_with(R"("primary_start_timeout":0,"synchronous_mode":"on")");
  start(o);
  start_writer();
  size_t total_missing = 0;
  for (int round = 1; round <= rounds; ++round) {
    int p = primary_;
    ASSERT_TRUE(c_->wait_until([&] { return sync_steady(p, 1); }, kFailoverMs))
        << "round " << round << ": no steady synchronous standby: " << describe_sync(p) << "\n" << logs();
    int sync = sync_standby(p);
    ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
    bool whole_node = round % 2 == 0;
    if (whole_node) kill_primary_node();
    else kill_primary_postmaster();
    int64_t t = fault_ms_;
    auto np = wait_new_primary(p);
    ASSERT_TRUE(np) << "round " << round << ": no new primary\n" << logs();
    ASSERT_TRUE(wait_writes_resume(t)) << "round " << round << ": writes did not resume\n" << logs();
    int64_t outage = outage_ms(t, monotonic_ms());
    if (whole_node) c_->start_node(p);
    ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == *np; }, kFailoverMs))
        << "round " << round << ": " << c_->name(p) << " did not rejoin\n" << logs();
    auto missing = writer_->missing_on(c_->conninfo(*np));
    total_missing += missing.size();
    std::printf("[ measured ] sync round %d (%s of %s, sync standby was %s): new primary %s, write outage %lld ms, "
                "%zu acknowledged so far, %zu missing\n",
                round, whole_node ? "node kill" : "postmaster kill", c_->name(p).c_str(),
                sync >= 0 ? c_->name(sync).c_str() : "?", c_->name(*np).c_str(), static_cast<long long>(outage),
                writer_->acks().size(), missing.size());
    std::fflush(stdout);
    EXPECT_TRUE(missing.empty()) << "round " << round << ": " << missing.size()
                                 << " acknowledged commits missing: " << describe_acks(missing, t);
    expect_no_forbidden_acks(p, t, true, monotonic_ms());
    primary_ = *np;
  }
  std::printf("[ measured ] sync mode, %d primary kills: %zu acknowledged commits missing in total\n", rounds, total_missing);
  finish(primary_, true);
}

// Non-strict: the stopped synchronous standby is replaced by the other one; with no standby at
// all, commits go on, acknowledged by the primary alone (recorded as the only complete member).
TEST_F(SyncCluster, StoppedSyncStandbyIsReplacedAndNonStrictWritesGoOn) {
  ClusterOptions o;
  o.config_json = config_with(R"("synchronous_mode":"on")");
  start(o);
  start_writer();
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1); }, kFailoverMs)) << describe_sync(primary_);
  int first = sync_standby(primary_);
  int second = 3 - primary_ - first;
  // Manual failover to the asynchronous replica needs force.
  auto unforced = c_->query(primary_, "SELECT pg_ha.failover('" + c_->name(second) + "')");
  ASSERT_FALSE(unforced.ok());
  EXPECT_NE(unforced.error().message.find("not in the synchronous set"), std::string::npos) << unforced.error().message;

  fault_ms_ = monotonic_ms();
  c_->stop_node(first);
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1) && sync_standby(primary_) == second; }, kFailoverMs))
      << "the other standby was not made synchronous: " << describe_sync(primary_) << "\n" << logs();
  int64_t named = monotonic_ms() - fault_ms_;
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  std::printf("[ measured ] sync standby %s stopped: %s synchronous %lld ms later, write outage %lld ms\n",
              c_->name(first).c_str(), c_->name(second).c_str(), static_cast<long long>(named),
              static_cast<long long>(outage_ms(fault_ms_)));

  int64_t t2 = monotonic_ms();
  c_->stop_node(second);
  ASSERT_TRUE(c_->wait_until([&] {
    auto rec = sync_standbys(primary_);
    return rec.size() == 1 && rec[0] == c_->name(primary_) && c_->show(primary_, "synchronous_standby_names").empty();
  }, kFailoverMs)) << "with no standby left: " << describe_sync(primary_) << "\n" << logs();
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << "non-strict: writes must go on without a standby\n" << logs();
  std::printf("[ measured ] no standby left (non-strict): write outage %lld ms\n", static_cast<long long>(outage_ms(t2)));
  EXPECT_NE(value(primary_, "SELECT reason FROM pg_ha.node_status()").find("no synchronous standby"), std::string::npos)
      << value(primary_, "SELECT reason FROM pg_ha.node_status()");

  c_->start_node(first);
  c_->start_node(second);
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == primary_ && sync_steady(primary_, 1); }, kFailoverMs))
      << describe_sync(primary_) << "\n" << logs();
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  finish(primary_, true);
}

// Strict: with the last standby gone commits wait (none is acknowledged, the writer's statement
// stays in flight, status says why) and go on once a standby is back.
TEST_F(SyncCluster, StrictModeWaitsForAStandbyInsteadOfGoingAsynchronous) {
  ClusterOptions o;
  o.config_json = config_with(R"("synchronous_mode":"on","synchronous_mode_strict":true)");
  start(o);
  start_writer();
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1); }, kFailoverMs)) << describe_sync(primary_);
  int first = sync_standby(primary_);
  int second = 3 - primary_ - first;
  fault_ms_ = monotonic_ms();
  c_->stop_node(first);
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1) && sync_standby(primary_) == second; }, kFailoverMs))
      << describe_sync(primary_) << "\n" << logs();
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();

  int64_t t2 = monotonic_ms();
  c_->stop_node(second);
  ASSERT_TRUE(c_->wait_until([&] {
    return value(primary_, "SELECT reason FROM pg_ha.node_status()").find("strict synchronous mode") != std::string::npos;
  }, kFailoverMs)) << "status does not say why writes wait: " << value(primary_, "SELECT reason FROM pg_ha.node_status()")
                   << "\n" << logs();
  EXPECT_FALSE(c_->show(primary_, "synchronous_standby_names").empty()) << "strict mode went asynchronous";
  size_t acked = writer_->acks().size();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(writer_->acks().size(), acked) << "a commit was acknowledged with no synchronous standby";
  EXPECT_GE(writer_->in_flight_since(), 0) << "the writer's commit should be waiting";
  std::printf("[ measured ] strict, no standby: status says \"%s\"\n",
              value(primary_, "SELECT reason FROM pg_ha.node_status()").c_str());

  int64_t back = monotonic_ms();
  c_->start_node(second);
  ASSERT_TRUE(wait_writes_resume(t2, kFailoverMs)) << "commits did not resume with a standby back\n" << logs();
  std::printf("[ measured ] strict: commits waited %lld ms (standby restarted after %lld ms, writes resumed %lld ms after its start)\n",
              static_cast<long long>(outage_ms(t2)), static_cast<long long>(back - t2),
              static_cast<long long>(writer_->acks().back().at_ms - back));
  c_->start_node(first);
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == primary_; }, kFailoverMs)) << logs();
  finish(primary_, true);
}

// F16 with real processes: a server streaming under the synchronous standby's name acknowledges
// nothing for it. pg_receivewal --synchronous flushes and reports like a standby. With the
// recorded standby stopped (strict mode: commits wait for it), two of them connect as its name
// alone (how every standby streamed before) and as its name with another identity; the waiting
// commit must stay unacknowledged. PostgreSQL would count either under a name-only setting.
TEST_F(SyncCluster, AServerUnderTheSyncStandbysNameAcknowledgesNothingForIt) {
  ClusterOptions o;
  o.config_json = config_with(R"("synchronous_mode":"on","synchronous_mode_strict":true)");
  ASSERT_NO_FATAL_FAILURE(start(o));
  start_writer();
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1); }, kFailoverMs)) << describe_sync(primary_);
  int first = sync_standby(primary_);
  int second = 3 - primary_ - first;
  std::string named = c_->show(primary_, "synchronous_standby_names");
  EXPECT_NE(named.find("\"" + c_->name(first) + "@"), std::string::npos) << "not named with its identity: " << named;
  c_->stop_node(second);
  c_->stop_node(first);
  ASSERT_TRUE(c_->wait_until([&] {
    return value(primary_, "SELECT reason FROM pg_ha.node_status()").find("strict synchronous mode") != std::string::npos;
  }, kFailoverMs)) << value(primary_, "SELECT reason FROM pg_ha.node_status()") << "\n" << logs();

  const char* bin_env = std::getenv("PG_HA_TEST_BIN_DIR");
  std::string bin = bin_env && *bin_env ? bin_env : "/usr/lib/postgresql/15/bin";
  std::vector<ChildProcess> impostors;
  for (const std::string& as : {c_->name(first), c_->name(first) + "@ffffffff"}) {
    std::string dir = c_->dir() + "/impostor-" + std::to_string(impostors.size());
    ASSERT_EQ(run_command({{"install", "-d", "-o", "postgres", "-m", "0700", dir}, "", "", {}, ""}), 0);
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(c_->port(primary_)) +
                           " user=replicator application_name='" + as + "'";
    impostors.push_back(ChildProcess::spawn({{bin + "/pg_receivewal", "--synchronous", "--no-loop", "-D", dir, "-d", conninfo},
                                             dir + ".log", "", {"PGPASSFILE=" + c_->replication_passfile(primary_)},
                                             "postgres"}));
  }
  ASSERT_TRUE(c_->wait_until([&] {
    return value(primary_, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND split_part(application_name, '@', 1) = '" +
                               c_->name(first) + "'") == "2";
  }, 30000)) << "the two impostors do not stream; see " << c_->dir() << "/impostor-*.log";
  size_t acked = writer_->acks().size();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(writer_->acks().size(), acked) << "a server under " << c_->name(first)
                                           << "'s name acknowledged a commit for it; named: "
                                           << c_->show(primary_, "synchronous_standby_names");
  EXPECT_GE(writer_->in_flight_since(), 0) << "the writer's commit should be waiting";
  for (ChildProcess& p : impostors) p.stop();

  int64_t back = monotonic_ms();
  c_->start_node(first);
  ASSERT_TRUE(wait_writes_resume(back, kFailoverMs)) << "commits did not resume with the standby back\n" << logs();
  c_->start_node(second);
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == primary_; }, kFailoverMs)) << logs();
  finish(primary_, true);
}

// off -> on -> quorum (and a primary kill in quorum mode) -> off, under a writer.
TEST_F(SyncCluster, ModesSwitchAtRuntimeUnderLoad) {
  ClusterOptions o;
  o.config_json = config_with(R"("primary_start_timeout":0)");
  start(o);
  start_writer();
  EXPECT_TRUE(c_->show(primary_, "synchronous_standby_names").empty());

  int64_t t = monotonic_ms();
  control(primary_, R"(SELECT pg_ha.set_config('{"synchronous_mode":"on"}'))");
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1); }, kFailoverMs)) << describe_sync(primary_);
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  std::printf("[ measured ] off -> on: %s, largest write gap %lld ms\n", describe_sync(primary_).c_str(),
              static_cast<long long>(writer_->largest_gap_ms(t)));

  t = monotonic_ms();
  control(primary_, R"(SELECT pg_ha.set_config('{"synchronous_mode":"quorum"}'))");
  ASSERT_TRUE(c_->wait_until([&] {
    return sync_steady(primary_, 2) && c_->show(primary_, "synchronous_standby_names").rfind("ANY 1 (", 0) == 0;
  }, kFailoverMs)) << describe_sync(primary_);
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  std::printf("[ measured ] on -> quorum: %s, largest write gap %lld ms\n", describe_sync(primary_).c_str(),
              static_cast<long long>(writer_->largest_gap_ms(t)));

  int p = primary_;
  kill_primary_postmaster();
  auto np = wait_new_primary(p);
  ASSERT_TRUE(np) << logs();
  ASSERT_TRUE(wait_writes_resume(fault_ms_)) << logs();
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == *np; }, kFailoverMs)) << logs();
  auto missing = writer_->missing_on(c_->conninfo(*np));
  std::printf("[ measured ] quorum, postmaster kill of %s: new primary %s, write outage %lld ms, %zu missing\n",
              c_->name(p).c_str(), c_->name(*np).c_str(), static_cast<long long>(outage_ms(fault_ms_)), missing.size());
  EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged commits missing after a kill in quorum mode";
  primary_ = *np;
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 2); }, kFailoverMs)) << describe_sync(primary_);

  t = monotonic_ms();
  control(primary_, R"(SELECT pg_ha.set_config('{"synchronous_mode":"off"}'))");
  ASSERT_TRUE(c_->wait_until([&] {
    return sync_standbys(primary_).empty() && c_->show(primary_, "synchronous_standby_names").empty();
  }, kFailoverMs)) << describe_sync(primary_);
  ASSERT_TRUE(wait_writes_resume(monotonic_ms())) << logs();
  std::printf("[ measured ] quorum -> off: largest write gap %lld ms\n", static_cast<long long>(writer_->largest_gap_ms(t)));
  finish(primary_, true);
}

// A synchronous standby that hangs (its WAL receiver stopped: it stays connected but confirms
// nothing) is replaced by the healthy one, and commits go on.
TEST_F(SyncCluster, HungSyncStandbyIsReplaced) {
  ClusterOptions o;
  o.config_json = config_with(R"("synchronous_mode":"on")");
  start(o);
  start_writer();
  ASSERT_TRUE(c_->wait_until([&] { return sync_steady(primary_, 1); }, kFailoverMs)) << describe_sync(primary_);
  int hung = sync_standby(primary_);
  int other = 3 - primary_ - hung;
  auto receivers = c_->postmaster_children(hung, "walreceiver");
  ASSERT_EQ(receivers.size(), 1u);
  fault_ms_ = monotonic_ms();
  ASSERT_EQ(::kill(receivers[0], SIGSTOP), 0);
  bool replaced = c_->wait_until([&] { return sync_steady(primary_, 1) && sync_standby(primary_) == other; }, 90000);
  int64_t named = monotonic_ms() - fault_ms_;
  bool resumed = replaced && wait_writes_resume(fault_ms_ + named);
  ::kill(receivers[0], SIGCONT);
  ASSERT_TRUE(replaced) << "the hung standby stayed synchronous: " << describe_sync(primary_) << "\n" << logs();
  ASSERT_TRUE(resumed) << logs();
  std::printf("[ measured ] hung sync standby %s: %s synchronous %lld ms later, write outage %lld ms\n",
              c_->name(hung).c_str(), c_->name(other).c_str(), static_cast<long long>(named),
              static_cast<long long>(outage_ms(fault_ms_)));
  ASSERT_TRUE(c_->wait_until([&] { return c_->wait_healthy(2, 1000) == primary_; }, kFailoverMs)) << logs();
  finish(primary_, true);
}

}  // namespace
}  // namespace pg_ha::test
