// Every operation against one real etcd member.
#include <gtest/gtest.h>

#include "harness/etcd_cluster.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

class SingleMember : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { etcd_ = new test::EtcdCluster(test::EtcdClusterOptions{}); }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    client_ = make_client(etcd_->endpoints());
    ASSERT_NE(client_, nullptr);
    // Each test works under its own prefix, so tests share one member safely.
    prefix_ = std::string("/t/") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }
  static test::EtcdCluster* etcd_;
  std::unique_ptr<Client> client_;
  std::string prefix_;
};

test::EtcdCluster* SingleMember::etcd_ = nullptr;

TEST_F(SingleMember, PutGetRangeDelete) {
  ASSERT_OK(client_->put(prefix_ + "a", "1"));
  PutRequest put{prefix_ + "a", "2", 0, true, false};
  auto second = client_->put(put);
  ASSERT_OK(second);
  ASSERT_TRUE(second->prev_kv.has_value());
  EXPECT_EQ(second->prev_kv->value, "1");
  ASSERT_OK(client_->put(prefix_ + "b", std::string("bin\0ary\xff", 8)));
  ASSERT_OK(client_->put(prefix_ + "c", ""));

  auto a = client_->get(prefix_ + "a");
  ASSERT_OK(a);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->value, "2");
  EXPECT_EQ((*a)->version, 2);
  EXPECT_EQ((*a)->mod_revision, second->revision);

  auto missing = client_->get(prefix_ + "zz");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());

  auto all = client_->range(RangeRequest::prefix(prefix_));
  ASSERT_OK(all);
  ASSERT_EQ(all->kvs.size(), 3u);
  EXPECT_EQ(all->kvs[1].value, std::string("bin\0ary\xff", 8));
  EXPECT_EQ(all->kvs[2].value, "");

  RangeRequest limited = RangeRequest::prefix(prefix_);
  limited.limit = 1;
  limited.serializable = true;
  auto one = client_->range(limited);
  ASSERT_OK(one);
  EXPECT_EQ(one->kvs.size(), 1u);
  EXPECT_EQ(one->count, 3);
  EXPECT_TRUE(one->more);

  RangeRequest old = RangeRequest::single(prefix_ + "a");
  old.revision = second->prev_kv->mod_revision;
  auto historic = client_->range(old);
  ASSERT_OK(historic);
  ASSERT_EQ(historic->kvs.size(), 1u);
  EXPECT_EQ(historic->kvs[0].value, "1");

  DeleteRequest del = DeleteRequest::single(prefix_ + "a");
  del.prev_kv = true;
  auto deleted = client_->delete_range(del);
  ASSERT_OK(deleted);
  EXPECT_EQ(deleted->deleted, 1);
  ASSERT_EQ(deleted->prev_kvs.size(), 1u);
  EXPECT_EQ(deleted->prev_kvs[0].value, "2");

  auto rest = client_->delete_range(DeleteRequest::prefix(prefix_));
  ASSERT_OK(rest);
  EXPECT_EQ(rest->deleted, 2);
  auto none = client_->range(RangeRequest::prefix(prefix_));
  ASSERT_OK(none);
  EXPECT_TRUE(none->kvs.empty());
}

TEST_F(SingleMember, TxnCompareAndSwap) {
  const std::string key = prefix_ + "leader";
  kv::Txn create;
  create.compare.push_back(kv::Compare::absent(key));
  create.success.push_back(kv::RequestOp::put(key, "n1"));
  create.failure.push_back(kv::RequestOp::get(key));
  auto won = client_->txn(create);
  ASSERT_OK(won);
  EXPECT_TRUE(won->succeeded);
  ASSERT_EQ(won->responses.size(), 1u);
  EXPECT_EQ(won->responses[0].kind, kv::RequestOp::Kind::Put);

  // The same race lost: succeeded=false is a normal result and the failure branch ran.
  create.success[0].value = "n2";
  auto lost = client_->txn(create);
  ASSERT_OK(lost);
  EXPECT_FALSE(lost->succeeded);
  ASSERT_EQ(lost->responses.size(), 1u);
  ASSERT_EQ(lost->responses[0].kvs.size(), 1u);
  EXPECT_EQ(lost->responses[0].kvs[0].value, "n1");

  // CAS on mod_revision, then the same CAS again fails (the revision moved).
  kv::Txn cas;
  cas.compare.push_back(kv::Compare::mod_revision_is(key, won->revision));
  cas.compare.push_back(kv::Compare::value_is(key, "n1"));
  cas.success.push_back(kv::RequestOp::put(key, "n3"));
  auto swapped = client_->txn(cas);
  ASSERT_OK(swapped);
  EXPECT_TRUE(swapped->succeeded);
  auto again = client_->txn(cas);
  ASSERT_OK(again);
  EXPECT_FALSE(again->succeeded);
  EXPECT_TRUE(again->responses.empty());

  // Delete in a branch, with prev_kv.
  kv::Txn del;
  del.compare.push_back(kv::Compare::value_is(key, "n3"));
  kv::RequestOp op = kv::RequestOp::del(key);
  op.prev_kv = true;
  del.success.push_back(op);
  auto gone = client_->txn(del);
  ASSERT_OK(gone);
  EXPECT_TRUE(gone->succeeded);
  EXPECT_EQ(gone->responses[0].deleted, 1);
  ASSERT_EQ(gone->responses[0].kvs.size(), 1u);
  EXPECT_EQ(gone->responses[0].kvs[0].value, "n3");
}

TEST_F(SingleMember, RangedCompareOnPrefix) {
  ASSERT_OK(client_->put(prefix_ + "members/n1", "a"));
  auto put = client_->put(prefix_ + "members/n2", "b");
  ASSERT_OK(put);
  const int64_t seen = put->revision;

  kv::Txn txn;
  txn.compare.push_back(kv::Compare::prefix_unchanged_since(prefix_ + "members/", seen));
  txn.success.push_back(kv::RequestOp::put(prefix_ + "decision", "x"));
  auto ok = client_->txn(txn);
  ASSERT_OK(ok);
  EXPECT_TRUE(ok->succeeded);

  ASSERT_OK(client_->put(prefix_ + "members/n3", "c"));  // a change under the prefix
  auto stale = client_->txn(txn);
  ASSERT_OK(stale);
  EXPECT_FALSE(stale->succeeded);

  // A key outside the prefix does not matter.
  ASSERT_OK(client_->put(prefix_ + "other", "d"));
  txn.compare[0] = kv::Compare::prefix_unchanged_since(prefix_ + "members/", stale->revision);
  auto fresh = client_->txn(txn);
  ASSERT_OK(fresh);
  EXPECT_TRUE(fresh->succeeded);
}

TEST_F(SingleMember, LeaseLifecycle) {
  auto lease = client_->lease_grant(30);
  ASSERT_OK(lease);
  EXPECT_EQ(lease->ttl_s, 30);
  ASSERT_OK(client_->put(prefix_ + "k", "v", lease->id));
  auto ttl = client_->lease_time_to_live(lease->id);
  ASSERT_OK(ttl);
  EXPECT_EQ(ttl->granted_ttl_s, 30);
  EXPECT_GT(ttl->ttl_s, 25);
  ASSERT_EQ(ttl->keys.size(), 1u);
  EXPECT_EQ(ttl->keys[0], prefix_ + "k");
  auto kept = client_->lease_keepalive(lease->id);
  ASSERT_OK(kept);
  EXPECT_EQ(kept->ttl_s, 30);
  auto got = client_->get(prefix_ + "k");
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->lease, lease->id);

  ASSERT_OK(client_->lease_revoke(lease->id));
  auto after = client_->get(prefix_ + "k");
  ASSERT_OK(after);
  EXPECT_FALSE(after->has_value());  // revoking deletes attached keys

  auto dead = client_->lease_keepalive(lease->id);
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.error().kind, ErrorKind::NotFound) << dead.error().message;
  auto dead_ttl = client_->lease_time_to_live(lease->id);
  ASSERT_FALSE(dead_ttl.ok());
  EXPECT_EQ(dead_ttl.error().kind, ErrorKind::NotFound);
  auto revoke_again = client_->lease_revoke(lease->id);
  ASSERT_FALSE(revoke_again.ok());
  EXPECT_EQ(revoke_again.error().kind, ErrorKind::NotFound) << revoke_again.error().message;
}

TEST_F(SingleMember, LeaseExpiryDeletesAttachedKeysAndKeepAliveExtends) {
  auto kept = client_->lease_grant(2);
  auto dropped = client_->lease_grant(2);
  ASSERT_OK(kept);
  ASSERT_OK(dropped);
  ASSERT_OK(client_->put(prefix_ + "kept", "v", kept->id));
  ASSERT_OK(client_->put(prefix_ + "dropped", "v", dropped->id));
  // Keep one lease alive for well past its TTL; let the other expire.
  auto start = std::chrono::steady_clock::now();
  while (testing::elapsed_ms(start) < 3500) {
    ASSERT_OK(client_->lease_keepalive(kept->id));
    testing::sleep_ms(400);
  }
  auto k = client_->get(prefix_ + "kept");
  ASSERT_OK(k);
  EXPECT_TRUE(k->has_value()) << "keep-alive did not extend the lease";
  EXPECT_TRUE(testing::eventually([&] {
    auto d = client_->get(prefix_ + "dropped");
    return d.ok() && !d->has_value();
  }, 3000)) << "expired lease did not delete its key";
  auto expired = client_->lease_keepalive(dropped->id);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().kind, ErrorKind::NotFound);
}

TEST_F(SingleMember, InvalidRequestIsAClearError) {
  auto r = client_->put(prefix_ + "k", "v", /*lease_id=*/424242);  // no such lease
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
  EXPECT_NE(r.error().message.find("lease not found"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(etcd_->endpoint(0)), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace pg_ha::etcd
