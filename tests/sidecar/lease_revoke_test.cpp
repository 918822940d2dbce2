// The crashed primary's lease revoke (ClusterView::revoke_own_lease): a revoke that got no answer
// may still land later, so it is retried until etcd answers, and the supervisor holds postgres
// back meanwhile (revoke_unanswered; FINDINGS F11).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <vector>

#include "cluster_view.hpp"
#include "config.hpp"
#include "core/schema.hpp"

namespace pg_ha::sidecar {
namespace {

// Keys in a map; each lease_revoke takes its answer from a script (default: revoked).
class ScriptedStore : public Store {
 public:
  std::map<std::string, kv::KeyValue> keys;
  std::deque<Status> revoke_answers;
  std::vector<int64_t> revoked;   // every revoke sent, answered or not
  bool reads_fail = false;

  Result<std::optional<kv::KeyValue>> get(const std::string& key) override {
    if (reads_fail) return make_error(ErrorKind::Unavailable, "no endpoint");
    auto it = keys.find(key);
    if (it == keys.end()) return std::optional<kv::KeyValue>();
    return std::optional<kv::KeyValue>(it->second);
  }
  Result<kv::TxnResult> txn(const kv::Txn&) override { return make_error(ErrorKind::Internal, "unused"); }
  Result<int64_t> lease_grant(int64_t) override { return make_error(ErrorKind::Internal, "unused"); }
  Status lease_keepalive(int64_t) override { return make_error(ErrorKind::Internal, "unused"); }
  Status lease_revoke(int64_t lease_id) override {
    revoked.push_back(lease_id);
    Status s = ok_status();
    if (!revoke_answers.empty()) {
      s = revoke_answers.front();
      revoke_answers.pop_front();
    }
    if (s) erase_on(lease_id);
    return s;
  }

 private:
  void erase_on(int64_t lease) {
    for (auto it = keys.begin(); it != keys.end();) it = it->second.lease == lease ? keys.erase(it) : std::next(it);
  }
};

SidecarConfig config_for(const std::string& name) {
  SidecarConfig c;
  c.name = name;
  c.cluster = "c";
  return c;
}

void put_member(ScriptedStore& s, const ClusterView& v, const std::string& name, int64_t lease) {
  core::MemberRecord m;
  m.name = name;
  m.lease_id = lease;
  kv::KeyValue kv;
  kv.key = v.keys().member(name);
  kv.value = core::encode(m);
  kv.lease = lease;
  s.keys[kv.key] = kv;
}

TEST(SidecarLeaseRevoke, AnsweredRevokeLeavesNothingPending) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  put_member(store, view, "n1", 7);
  auto n = view.revoke_own_lease();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(view.revoke_unanswered());
}

TEST(SidecarLeaseRevoke, TimedOutRevokeIsRetriedUntilAnswered) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  put_member(store, view, "n1", 7);
  store.revoke_answers.push_back(make_error(ErrorKind::Timeout, "deadline passed"));
  EXPECT_FALSE(view.revoke_own_lease().ok());
  EXPECT_TRUE(view.revoke_unanswered()) << "a revoke without an answer may still land: postgres must wait";

  // The late revoke may already have landed (the member key is gone) or etcd may be unreachable:
  // the same lease is revoked again by id all the same.
  store.keys.clear();
  store.reads_fail = true;
  store.revoke_answers.push_back(make_error(ErrorKind::Unavailable, "no endpoint"));
  EXPECT_FALSE(view.revoke_own_lease().ok());
  EXPECT_TRUE(view.revoke_unanswered());

  store.reads_fail = false;
  store.revoke_answers.push_back(make_error(ErrorKind::NotFound, "lease not found"));
  auto n = view.revoke_own_lease();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 0);
  EXPECT_FALSE(view.revoke_unanswered()) << "an answer, even 'not found', means the lease is dead";
  EXPECT_EQ(store.revoked, (std::vector<int64_t>{7, 7, 7}));
}

}  // namespace
}  // namespace pg_ha::sidecar
