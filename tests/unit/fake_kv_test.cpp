// The fixture's etcd must itself behave like etcd, or every scenario built on it proves nothing.
#include <gtest/gtest.h>

#include "fixture/fake_kv.hpp"

namespace pg_ha::unit {
namespace {

TEST(FakeKv, PutAssignsRevisionsAndVersions) {
  FakeKv kv;
  kv.put("/a", "1");
  kv.put("/a", "2");
  const kv::KeyValue* a = kv.get("/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->create_revision, 2);
  EXPECT_EQ(a->mod_revision, 3);
  EXPECT_EQ(a->version, 2);
  EXPECT_EQ(kv.revision(), 3);
}

TEST(FakeKv, FailedCompareAppliesNothingAndKeepsTheRevision) {
  FakeKv kv;
  kv.put("/a", "1");
  kv::Txn t;
  t.compare = {kv::Compare::absent("/a")};
  t.success = {kv::RequestOp::put("/b", "x")};
  EXPECT_EQ(kv.apply(t), TxnOutcome::Failed);
  EXPECT_EQ(kv.get("/b"), nullptr);
  EXPECT_EQ(kv.revision(), 2);
}

TEST(FakeKv, OneTransactionIsOneRevision) {
  FakeKv kv;
  kv::Txn t;
  t.success = {kv::RequestOp::put("/a", "1"), kv::RequestOp::put("/b", "2")};
  EXPECT_EQ(kv.apply(t), TxnOutcome::Succeeded);
  EXPECT_EQ(kv.get("/a")->mod_revision, kv.get("/b")->mod_revision);
  EXPECT_EQ(kv.revision(), 2);
}

TEST(FakeKv, RangedCompareMustHoldForEveryKeyInRange) {
  FakeKv kv;
  kv.put("/e/1/a", "x");  // rev 2
  kv.put("/e/1/b", "y");  // rev 3
  kv.put("/e/2/a", "z");  // rev 4, outside the range below
  EXPECT_TRUE(kv.compares_hold({kv::Compare::prefix_unchanged_since("/e/1/", 3)}));
  EXPECT_FALSE(kv.compares_hold({kv::Compare::prefix_unchanged_since("/e/1/", 2)}));
  EXPECT_TRUE(kv.compares_hold({kv::Compare::prefix_unchanged_since("/none/", 0)}));
}

TEST(FakeKv, ExpiredLeaseTakesItsKeys) {
  FakeKv kv;
  kv.put("/leader", "n1", 7);
  kv.put("/state", "s");
  kv.expire_lease(7);
  EXPECT_EQ(kv.get("/leader"), nullptr);
  EXPECT_NE(kv.get("/state"), nullptr);
  kv::Txn t;
  t.success = {kv::RequestOp::put("/leader", "n1", 7)};
  EXPECT_EQ(kv.apply(t), TxnOutcome::Rejected);
}

TEST(FakeKv, DeletePrefixRemovesOnlyThePrefix) {
  FakeKv kv;
  kv.put("/e/1", "a");
  kv.put("/e/2", "b");
  kv.put("/f", "c");
  kv::Txn t;
  t.success = {kv::RequestOp::del_prefix("/e/")};
  kv.apply(t);
  EXPECT_EQ(kv.all().size(), 1u);
  EXPECT_NE(kv.get("/f"), nullptr);
}

}  // namespace
}  // namespace pg_ha::unit
