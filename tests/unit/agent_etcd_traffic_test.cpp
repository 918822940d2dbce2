// The agent's etcd traffic: a read seeds its view, the watch keeps it current, keep-alive answers
// confirm it. Driven through Agent::run() against an in-memory etcd and a fake clock, so each
// test can count the reads and check what the agent saw.
#include <gtest/gtest.h>

#include "agent/agent.hpp"
#include "fixture/fake_kv.hpp"

namespace pg_ha::agent {
namespace {

constexpr const char* kRoot = "/pg_ha/c1/";

struct Clock {
  int64_t now = 1000;
};

// etcd over FakeKv. The watch delivers the difference between what it last delivered and the
// store now (a coalesced but complete stream); with nothing new it lets the fake time pass.
class FakeEtcd : public EtcdPort {
 public:
  FakeEtcd(unit::FakeKv& kv, Clock& clock) : kv_(kv), clock_(clock) {}

  Result<PrefixSnapshot> read_prefix(const std::string&) override {
    ++reads;
    return PrefixSnapshot{kv_.revision(), kv_.all()};
  }
  Result<kv::TxnResult> txn(const kv::Txn& t) override {
    kv::TxnResult r;
    r.succeeded = kv_.apply(t) == unit::TxnOutcome::Succeeded;
    writes += r.succeeded ? 1 : 0;
    r.revision = kv_.revision();
    return r;
  }
  Result<int64_t> lease_grant(int) override {
    kv_.grant_lease(++last_lease_);
    return last_lease_;
  }
  Result<int64_t> lease_keepalive(int64_t) override {
    ++keepalives;
    return kv_.revision() + foreign_revisions;
  }
  Status lease_revoke(int64_t id) override {
    ++revokes;
    kv_.expire_lease(id);
    return ok_status();
  }
  Result<WatchBatch> watch_changes(const std::string&, int64_t after, int timeout_ms) override {
    if (watch_broken) {
      watch_broken = false;
      return make_error(ErrorKind::Compacted, "compacted");
    }
    if (!watching_) {
      watching_ = true;
      delivered_ = after;
      seen_ = current();
    }
    WatchBatch b = changes();
    if (b.changes.empty()) clock_.now += timeout_ms;
    return b;
  }

  int reads = 0;
  int writes = 0;
  int keepalives = 0;
  int revokes = 0;
  int64_t foreign_revisions = 0;   // writes by other users of the etcd, outside our prefix
  bool watch_broken = false;

 private:
  std::map<std::string, kv::KeyValue> current() const {
    std::map<std::string, kv::KeyValue> m;
    for (const kv::KeyValue& k : kv_.all()) m[k.key] = k;
    return m;
  }
  WatchBatch changes() {
    WatchBatch b;
    auto now = current();
    for (const auto& [key, k] : now) {
      if (k.mod_revision > delivered_) b.changes.push_back(WatchChange{false, k});
    }
    for (const auto& [key, k] : seen_) {
      if (!now.count(key)) {
        kv::KeyValue gone = k;
        gone.mod_revision = kv_.revision();
        b.changes.push_back(WatchChange{true, gone});
      }
    }
    seen_ = now;
    delivered_ = kv_.revision();
    b.revision = delivered_;
    return b;
  }

  unit::FakeKv& kv_;
  Clock& clock_;
  int64_t last_lease_ = 100;
  bool watching_ = false;
  int64_t delivered_ = 0;
  std::map<std::string, kv::KeyValue> seen_;
};

// A standby of a cluster nobody has bootstrapped yet: it only keeps its member key alive.
class FakeServer : public LocalPort {
 public:
  FakeServer(Clock& clock, int64_t stop_at_ms) : clock_(clock), stop_at_ms_(stop_at_ms) {}
  int64_t monotonic_ms() override { return clock_.now; }
  int64_t wall_clock_unix_ms() override { return 1'700'000'000'000 + clock_.now; }
  core::LocalObservation observe() override {
    core::LocalObservation o;
    o.in_recovery = true;
    o.timeline = 1;
    o.system_identifier = 7;
    return o;
  }
  void publish_gate(int64_t, bool, const std::string&) override {}
  void terminate_client_backends() override {}
  void promote() override {}
  void reload_configuration() override {}
  void publish_snapshot(const std::string& json) override { snapshot = json; }
  void log(LogLevel, const std::string&) override {}
  bool should_stop() override { return clock_.now >= stop_at_ms_; }

  std::string snapshot;

 private:
  Clock& clock_;
  int64_t stop_at_ms_;
};

AgentSettings settings() {
  AgentSettings s;
  s.cluster = "c1";
  s.node.name = "n1";
  s.node.host = "127.0.0.1";
  return s;
}

// One node against its etcd, run for `run_ms` of fake time.
struct World {
  explicit World(int64_t run_ms) : server(clock, clock.now + run_ms) {}
  unit::FakeKv kv;
  Clock clock;
  FakeEtcd etcd{kv, clock};
  FakeServer server;
  Agent agent{settings(), etcd, server};
};

TEST(AgentEtcdTraffic, AnIdleNodeReadsOnceAndKeepsItsLeaseAlive) {
  World w(20'000);
  w.agent.run();
  EXPECT_EQ(w.etcd.reads, 1);
  EXPECT_GE(w.etcd.keepalives, 18);   // no leader: every loop_wait (1 s) for 20 s
  EXPECT_EQ(w.etcd.writes, 1);         // the member key, once: nothing about it changed
  EXPECT_EQ(w.etcd.revokes, 1);        // released on the way out
}

TEST(AgentEtcdTraffic, ChangesArriveThroughTheWatch) {
  World w(5'000);
  w.agent.iterate();
  w.kv.put(std::string(kRoot) + "config", R"({"version":1,"loop_wait_ms":700,"fence_after_ms":2000})");
  w.agent.run();
  EXPECT_EQ(w.etcd.reads, 1);
  EXPECT_NE(w.server.snapshot.find("\"loop_wait_ms\":700"), std::string::npos) << w.server.snapshot;
}

TEST(AgentEtcdTraffic, AStoreRevisionPastTheViewMakesTheNodeReadEachInterval) {
  World w(10'000);
  w.etcd.foreign_revisions = 5;   // another cluster writes to the same etcd
  w.agent.run();
  EXPECT_GE(w.etcd.reads, 9);
  EXPECT_LE(w.etcd.reads, 12);
}

TEST(AgentEtcdTraffic, AStoppedWatchMakesTheNodeReadAgain) {
  World w(3'000);
  w.agent.iterate();
  w.etcd.watch_broken = true;
  w.agent.run();
  EXPECT_EQ(w.etcd.reads, 2);
}

}  // namespace
}  // namespace pg_ha::agent
