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

  Result<kv::PrefixSnapshot> read_prefix(const std::string&) override {
    ++reads;
    return kv::PrefixSnapshot{kv_.revision(), kv_.all()};
  }
  Result<kv::TxnResult> txn(const kv::Txn& t) override {
    kv::TxnResult r;
    r.succeeded = kv_.apply(t) == unit::TxnOutcome::Succeeded;
    writes += r.succeeded ? 1 : 0;
    r.revision = kv_.revision();
    return r;
  }
  Result<GrantedLease> lease_grant(int ttl_s) override {
    kv_.grant_lease(++last_lease_);
    ttl_s_[last_lease_] = ttl_s;
    return GrantedLease{last_lease_, ttl_s};
  }
  Result<KeptAlive> lease_keepalive(int64_t id) override {
    ++keepalives;
    if (!kv_.lease_alive(id)) return make_error(ErrorKind::NotFound, "no such lease");
    return KeptAlive{kv_.revision() + foreign_revisions, ttl_s_[id]};
  }
  Result<LeaseTtl> lease_time_to_live(int64_t id) override {
    ++ttl_reads;
    if (!kv_.lease_alive(id)) return make_error(ErrorKind::NotFound, "no such lease");
    return LeaseTtl{ttl_s_[id], ttl_s_[id], kv_.revision()};
  }
  Status lease_revoke(int64_t id) override {
    ++revokes;
    kv_.expire_lease(id);
    return ok_status();
  }
  // A lease granted earlier (by a previous worker) with the given ttl.
  int64_t grant_outside(int ttl_s) { return lease_grant(ttl_s)->id; }
  int64_t ttl_of(int64_t id) { return ttl_s_[id]; }
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
  int ttl_reads = 0;
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
  std::map<int64_t, int64_t> ttl_s_;
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
  void publish_gate(int64_t deadline_ms, bool, const std::string&) override { gate_deadline_ms = deadline_ms; }
  void terminate_client_backends() override {}
  void promote() override {}
  void reload_configuration() override {}
  void publish_snapshot(const std::string& json) override { snapshot = json; }
  void log(LogLevel, const std::string&) override {}
  bool should_stop() override { return clock_.now >= stop_at_ms_; }

  std::string snapshot;
  int64_t gate_deadline_ms = 0;

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

// FINDINGS F23: with fence_after_ms just above loop_wait_ms, a keep-alive every loop_wait_ms left
// its answer only the difference to arrive before the gate closed. The primary (and a node while
// there is no leader) sends one at least twice per fence_after_ms.
TEST(AgentEtcdTraffic, KeepAlivesComeTwicePerFenceWindowWhenThatIsShorterThanTheLoop) {
  World w(20'000);
  w.kv.put(std::string(kRoot) + "config", R"({"version":1,"loop_wait_ms":1000,"fence_after_ms":1200})");
  w.agent.run();
  EXPECT_GE(w.etcd.keepalives, 30);   // every 600 ms for 20 s
  EXPECT_LE(w.etcd.keepalives, 36);
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

// An etcd restored from an old snapshot answers at revisions below the cache's. Such an answer
// confirmed the cache before, so the node never read again and never saw the restored keys (nor,
// later, their deletion): its watch waited for a revision the restored etcd had not reached.
TEST(AgentEtcdTraffic, AStoreRevisionBelowTheViewMakesTheNodeReadEachInterval) {
  World w(10'000);
  w.etcd.foreign_revisions = -5;
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

const kv::KeyValue* find_key(const unit::FakeKv& kv, const std::string& key) {
  static kv::KeyValue found;
  for (const kv::KeyValue& k : kv.all()) {
    if (k.key == key) return &(found = k);
  }
  return nullptr;
}

// Iterations of the agent (without the shutdown that releases the lease), the fake clock moving
// one keep-alive interval between them.
void step_for(World& w, int64_t ms) {
  for (int64_t end = w.clock.now + ms; w.clock.now < end; w.clock.now += 1'001) w.agent.iterate();
}

// issue 12: `ttl` changed after the lease was granted. etcd renews a lease only to its granted TTL,
// so the agent grants a new one, moves its keys onto it in one txn (never deleted: the same
// create_revision) and only then revokes the old one.
TEST(AgentLease, AChangedTtlMovesTheKeysToANewLeaseBeforeRevokingTheOld) {
  World w(3'000);
  w.agent.iterate();
  const std::string member = std::string(kRoot) + "members/n1";
  const kv::KeyValue* before = find_key(w.kv, member);
  ASSERT_NE(before, nullptr);
  int64_t old_lease = before->lease;
  int64_t created = before->create_revision;
  EXPECT_EQ(w.etcd.ttl_of(old_lease), 10);
  w.kv.put(std::string(kRoot) + "leader", R"({"version":1,"name":"n1","term":1})", old_lease);
  w.kv.put(std::string(kRoot) + "config", R"({"version":1,"ttl":20})");
  step_for(w, 3'000);
  const kv::KeyValue* after = find_key(w.kv, member);
  ASSERT_NE(after, nullptr);
  EXPECT_NE(after->lease, old_lease);
  EXPECT_EQ(w.etcd.ttl_of(after->lease), 20);
  EXPECT_EQ(after->create_revision, created) << "the member key was deleted and written again";
  EXPECT_FALSE(w.kv.lease_alive(old_lease));
  EXPECT_EQ(w.etcd.revokes, 1);   // the old lease, after the move
  const kv::KeyValue* leader = find_key(w.kv, std::string(kRoot) + "leader");
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->lease, after->lease);
}

// issue 17: a config key that cannot be read is not an absent one: the last good config stays in
// force (the defaults would turn synchronous mode off), and the status names the key.
TEST(AgentConfig, AnUnreadableConfigKeepsTheLastGoodOne) {
  World w(3'000);
  w.kv.put(std::string(kRoot) + "config", R"({"version":1,"loop_wait_ms":700,"fence_after_ms":2000,"synchronous_mode":"on"})");
  step_for(w, 2'000);
  ASSERT_NE(w.server.snapshot.find("\"loop_wait_ms\":700"), std::string::npos) << w.server.snapshot;
  w.kv.put(std::string(kRoot) + "config", "{not json");
  step_for(w, 2'000);
  EXPECT_NE(w.server.snapshot.find("\"loop_wait_ms\":700"), std::string::npos) << w.server.snapshot;
  EXPECT_NE(w.server.snapshot.find("\"synchronous_mode\":\"on\""), std::string::npos) << w.server.snapshot;
  EXPECT_NE(w.server.snapshot.find("/pg_ha/c1/config: "), std::string::npos) << "a problem names the key";
}

// An adopted lease keeps the TTL it was granted with: the agent learns it from the keep-alive
// answer and re-grants when the config says otherwise.
TEST(AgentLease, AnAdoptedLeaseWithAnotherTtlIsReplaced) {
  World w(3'000);
  int64_t previous = w.etcd.grant_outside(30);
  core::MemberRecord m;
  m.name = "n1";
  m.lease_id = previous;
  w.kv.put(std::string(kRoot) + "members/n1", core::encode(m), previous);
  step_for(w, 3'000);
  const kv::KeyValue* after = find_key(w.kv, std::string(kRoot) + "members/n1");
  ASSERT_NE(after, nullptr);
  EXPECT_NE(after->lease, previous);
  EXPECT_EQ(w.etcd.ttl_of(after->lease), 10);
  EXPECT_FALSE(w.kv.lease_alive(previous));
}

}  // namespace
}  // namespace pg_ha::agent

namespace pg_ha::agent {
namespace {

// Fast takeover: a replica of an armed leader reads the leader's lease once a loop, no more.
// The fake answers a full TTL left (a lease renewed just now): no answer could show the 3 s
// silence (the defaults' need) before ~3 s later, so the replica reads it about every 2.5 s (half a
// second early), not once a loop.
TEST(AgentTakeover, AReplicaReadsAHealthyLeadersLeaseOnlyWhenItCouldShowTheSilence) {
  World w(10'000);
  int64_t leader_lease = w.etcd.grant_outside(10);
  w.kv.put(std::string(kRoot) + "state", R"({"version":1,"term":1,"primary":"n9","timeline":1})");
  w.kv.put(std::string(kRoot) + "leader", R"({"version":1,"name":"n9","term":1,"arm":5,"silence_ms":3000})", leader_lease);
  w.agent.run();
  EXPECT_GE(w.etcd.ttl_reads, 2);
  EXPECT_LE(w.etcd.ttl_reads, 5);
}

TEST(AgentTakeover, AnUnarmedLeadersLeaseIsNotRead) {
  World w(5'000);
  int64_t leader_lease = w.etcd.grant_outside(10);
  w.kv.put(std::string(kRoot) + "state", R"({"version":1,"term":1,"primary":"n9","timeline":1})");
  w.kv.put(std::string(kRoot) + "leader", R"({"version":1,"name":"n9","term":1})", leader_lease);
  w.agent.run();
  EXPECT_EQ(w.etcd.ttl_reads, 0);
}

}  // namespace
}  // namespace pg_ha::agent
