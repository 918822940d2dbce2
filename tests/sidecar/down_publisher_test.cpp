// The down/<name> key (sidecar/down_publisher.hpp, issue 16): a node whose postgres is down stays
// listed under its sidecar's own lease, which the sidecar keeps alive, renews when it expired while
// etcd was away, and revokes once postgres serves again.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "down_publisher.hpp"

namespace pg_ha::sidecar {
namespace {

class LeaseStore : public Store {
 public:
  std::map<std::string, kv::KeyValue> keys;
  std::set<int64_t> live;
  std::vector<int64_t> keepalives;
  std::vector<int64_t> revoked;
  int64_t next_lease = 100;
  int puts = 0;
  bool down = false;   // etcd unreachable

  Result<std::optional<kv::KeyValue>> get(const std::string&) override { return make_error(ErrorKind::Internal, "unused"); }
  Result<kv::TxnResult> txn(const kv::Txn& t) override {
    if (down) return make_error(ErrorKind::Unavailable, "no endpoint");
    for (const auto& op : t.success) {
      kv::KeyValue kv;
      kv.key = op.key;
      kv.value = op.value;
      kv.lease = op.lease;
      keys[op.key] = kv;
      ++puts;
    }
    return kv::TxnResult{};
  }
  Status lease_revoke(int64_t id) override {
    if (down) return make_error(ErrorKind::Unavailable, "no endpoint");
    revoked.push_back(id);
    expire(id);
    return ok_status();
  }
  Result<int64_t> lease_grant(int64_t ttl) override {
    if (down) return make_error(ErrorKind::Unavailable, "no endpoint");
    EXPECT_EQ(ttl, kDownLeaseTtlS);
    live.insert(next_lease);
    return next_lease++;
  }
  Status lease_keepalive(int64_t id) override {
    if (down) return make_error(ErrorKind::Unavailable, "no endpoint");
    keepalives.push_back(id);
    if (!live.count(id)) return make_error(ErrorKind::NotFound, "lease expired");
    return ok_status();
  }
  void expire(int64_t id) {
    live.erase(id);
    for (auto it = keys.begin(); it != keys.end();) it = it->second.lease == id ? keys.erase(it) : std::next(it);
  }
};

core::DownRecord record(const std::string& state, const std::string& reason) {
  core::DownRecord r;
  r.name = "node1";
  r.role = "primary";
  r.state = state;
  r.reason = reason;
  r.since_unix_ms = 1;
  return r;
}

const std::string kKey = "/pg_ha/c/down/node1";

TEST(DownPublisher, PublishesUnderItsOwnLeaseAndKeepsItAlive) {
  LeaseStore store;
  DownPublisher p(store, core::Keys("/pg_ha", "c"));
  p.publish(record("start failed", "No space left on device"), 0);
  ASSERT_TRUE(store.keys.count(kKey));
  EXPECT_EQ(store.keys[kKey].lease, 100);
  auto decoded = core::decode_down(store.keys[kKey].value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->state, "start failed");
  EXPECT_EQ(decoded->reason, "No space left on device");
  // Unchanged: no rewrite; the lease is kept alive every ttl/3.
  p.publish(record("start failed", "No space left on device"), 2000);
  EXPECT_EQ(store.puts, 1);
  EXPECT_TRUE(store.keepalives.empty());
  p.publish(record("start failed", "No space left on device"), kDownLeaseTtlS * 1000 / 3 + 1);
  EXPECT_EQ(store.keepalives, std::vector<int64_t>{100});
  // A new reason is written (at most once a second).
  p.publish(record("crash loop", "killed by signal 9"), kDownLeaseTtlS * 1000 / 3 + 1500);
  EXPECT_EQ(core::decode_down(store.keys[kKey].value)->state, "crash loop");
}

TEST(DownPublisher, ALeaseThatExpiredWhileEtcdWasAwayIsRenewedAndTheKeyWrittenAgain) {
  LeaseStore store;
  DownPublisher p(store, core::Keys("/pg_ha", "c"));
  p.publish(record("crashed", "x"), 0);
  store.down = true;
  p.publish(record("crashed", "x"), 20000);   // keep-alive unanswered: tried again later
  store.down = false;
  store.expire(100);
  ASSERT_FALSE(store.keys.count(kKey));
  p.publish(record("crashed", "x"), 40000);
  ASSERT_TRUE(store.keys.count(kKey));
  EXPECT_EQ(store.keys[kKey].lease, 101);
}

TEST(DownPublisher, ClearRevokesTheLeaseAndWithItTheKey) {
  LeaseStore store;
  {
    DownPublisher p(store, core::Keys("/pg_ha", "c"));
    p.clear();   // nothing published: nothing sent
    EXPECT_TRUE(store.revoked.empty());
    p.publish(record("stopped", "paused"), 0);
    EXPECT_TRUE(p.published());
    p.clear();
    EXPECT_FALSE(p.published());
    EXPECT_EQ(store.revoked, std::vector<int64_t>{100});
    EXPECT_FALSE(store.keys.count(kKey));
    p.publish(record("stopped", "paused"), 5000);   // down again: a new lease
  }
  // The destructor (the sidecar exits) revokes it too.
  EXPECT_EQ(store.revoked, (std::vector<int64_t>{100, 101}));
  EXPECT_TRUE(store.keys.empty());
}

}  // namespace
}  // namespace pg_ha::sidecar
