// Watch streams against one member: order, prev_kv, history replay, compaction.
#include <gtest/gtest.h>

#include "harness/etcd_cluster.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

class WatchSingle : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = std::make_unique<test::EtcdCluster>(test::EtcdClusterOptions{});
    client_ = make_client(etcd_->endpoints());
    ASSERT_NE(client_, nullptr);
  }
  // Collects events until count arrived or timeout_ms passed.
  std::vector<WatchEvent> collect(Watch& w, size_t count, int timeout_ms = 5000) {
    std::vector<WatchEvent> all;
    auto start = std::chrono::steady_clock::now();
    while (all.size() < count && testing::elapsed_ms(start) < timeout_ms) {
      auto got = w.poll(200);
      if (!got.ok()) {
        ADD_FAILURE() << got.error().message;
        break;
      }
      all.insert(all.end(), got->begin(), got->end());
    }
    return all;
  }
  std::unique_ptr<test::EtcdCluster> etcd_;
  std::unique_ptr<Client> client_;
};

TEST_F(WatchSingle, SeesPutsAndDeletesInOrder) {
  WatchRequest req = WatchRequest::prefix("/w/");
  req.prev_kv = true;
  auto w = client_->watch(req);
  ASSERT_OK(client_->run_until([&] { return w->connected(); }, 5000));

  ASSERT_OK(client_->put("/w/a", "1"));
  ASSERT_OK(client_->put("/other", "ignored"));
  ASSERT_OK(client_->put("/w/b", "2"));
  ASSERT_OK(client_->put("/w/a", "3"));
  ASSERT_OK(client_->delete_range(DeleteRequest::single("/w/a")));
  kv::Txn txn;
  txn.success = {kv::RequestOp::put("/w/c", "4"), kv::RequestOp::del("/w/b")};
  ASSERT_OK(client_->txn(txn));

  auto events = collect(*w, 6);
  ASSERT_EQ(events.size(), 6u);
  struct Expect { EventType type; const char* key; const char* value; };
  std::vector<Expect> expected = {{EventType::Put, "/w/a", "1"}, {EventType::Put, "/w/b", "2"},
                                  {EventType::Put, "/w/a", "3"}, {EventType::Delete, "/w/a", ""},
                                  {EventType::Put, "/w/c", "4"}, {EventType::Delete, "/w/b", ""}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(events[i].type, expected[i].type) << i;
    EXPECT_EQ(events[i].kv.key, expected[i].key) << i;
    EXPECT_EQ(events[i].kv.value, expected[i].value) << i;
    if (i > 0) {
      EXPECT_GE(events[i].kv.mod_revision, events[i - 1].kv.mod_revision) << i;
    }
  }
  // One txn = one revision for both of its events.
  EXPECT_EQ(events[4].kv.mod_revision, events[5].kv.mod_revision);
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "1");
  ASSERT_TRUE(events[3].prev_kv.has_value());
  EXPECT_EQ(events[3].prev_kv->value, "3");
  EXPECT_EQ(w->last_revision(), events[5].kv.mod_revision);

  auto quiet = w->poll(100);
  ASSERT_OK(quiet);
  EXPECT_TRUE(quiet->empty());
}

TEST_F(WatchSingle, FromRevisionReplaysHistory) {
  auto first = client_->put("/h/k", "1");
  ASSERT_OK(first);
  ASSERT_OK(client_->put("/h/k", "2"));
  ASSERT_OK(client_->put("/h/k", "3"));
  auto w = client_->watch(WatchRequest::prefix("/h/", first->revision + 1));
  auto events = collect(*w, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.value, "2");
  EXPECT_EQ(events[1].kv.value, "3");
}

TEST_F(WatchSingle, CompactedStartRevisionIsReported) {
  auto first = client_->put("/c/k", "1");
  ASSERT_OK(first);
  auto last = client_->put("/c/k", "2");
  ASSERT_OK(last);
  etcd_->compact(last->revision);
  auto w = client_->watch(WatchRequest::prefix("/c/", first->revision));
  Result<std::vector<WatchEvent>> got = std::vector<WatchEvent>{};
  for (int i = 0; i < 25 && got.ok() && got->empty(); ++i) got = w->poll(200);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::Compacted);
  EXPECT_NE(got.error().message.find("compacted"), std::string::npos) << got.error().message;
  EXPECT_TRUE(w->stopped());
}

TEST_F(WatchSingle, RestartedMemberResumesWithoutLossOrRepeat) {
  auto w = client_->watch(WatchRequest::prefix("/r/"));
  ASSERT_OK(client_->run_until([&] { return w->connected(); }, 5000));
  ASSERT_OK(client_->put("/r/1", "a"));
  auto before = collect(*w, 1);
  ASSERT_EQ(before.size(), 1u);
  etcd_->kill9(0);
  etcd_->start(0);
  etcd_->wait_healthy();
  ASSERT_OK(client_->put("/r/2", "b"));
  ASSERT_OK(client_->put("/r/3", "c"));
  auto after = collect(*w, 2);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].kv.key, "/r/2");
  EXPECT_EQ(after[1].kv.key, "/r/3");
  EXPECT_GE(w->reconnects(), 1);
  auto none = w->poll(300);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace pg_ha::etcd
