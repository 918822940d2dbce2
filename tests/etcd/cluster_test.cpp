// Three members: crashes of the member in use and of the raft leader.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "harness/etcd_cluster.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

test::EtcdClusterOptions three() {
  test::EtcdClusterOptions o;
  o.members = 3;
  return o;
}

// Endpoints with the given member first, so the client starts on it.
std::vector<std::string> starting_with(const test::EtcdCluster& etcd, int first) {
  std::vector<std::string> out = {etcd.endpoint(first)};
  for (int i = 0; i < etcd.size(); ++i) {
    if (i != first) out.push_back(etcd.endpoint(i));
  }
  return out;
}

TEST(ThreeMembers, KillNineOfTheLeaderInUseOperationsContinue) {
  test::EtcdCluster etcd(three());
  int leader = etcd.leader_index();
  ASSERT_GE(leader, 0);
  auto client = make_client(starting_with(etcd, leader), [](Options& o) { o.request_timeout_ms = 5000; });
  ASSERT_OK(client->put("/k", "before"));
  auto lease = client->lease_grant(30);
  ASSERT_OK(lease);
  EXPECT_EQ(client->preferred_endpoint(), etcd.endpoint(leader));

  etcd.kill9(leader);  // the member in use *and* the raft leader
  auto killed_at = std::chrono::steady_clock::now();

  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(client->put("/k", "after" + std::to_string(i)));
    if (i == 0) ::testing::Test::RecordProperty("first_put_after_kill_ms", std::to_string(testing::elapsed_ms(killed_at)));
    auto got = client->get("/k");
    ASSERT_OK(got);
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->value, "after" + std::to_string(i));
    kv::Txn txn;
    txn.compare.push_back(kv::Compare::value_is("/k", "after" + std::to_string(i)));
    txn.success.push_back(kv::RequestOp::put("/n", std::to_string(i)));
    auto t = client->txn(txn);
    ASSERT_OK(t);
    EXPECT_TRUE(t->succeeded);
    ASSERT_OK(client->lease_keepalive(lease->id));
  }
  EXPECT_NE(client->preferred_endpoint(), etcd.endpoint(leader));
  EXPECT_GE(etcd.leader_index(), 0);
}

TEST(ThreeMembers, WatchResumesAcrossAKilledMemberWithoutLossOrRepeat) {
  test::EtcdCluster etcd(three());
  int leader = etcd.leader_index();
  ASSERT_GE(leader, 0);
  auto watcher = make_client(starting_with(etcd, leader));
  auto w = watcher->watch(WatchRequest::prefix("/s/"));
  ASSERT_OK(watcher->run_until([&] { return w->connected(); }, 5000));

  // A writer on the other members keeps writing while the watched member (the leader) dies.
  std::vector<std::string> others;
  for (int i = 0; i < etcd.size(); ++i) {
    if (i != leader) others.push_back(etcd.endpoint(i));
  }
  std::atomic<int> written{0};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    auto client = make_client(others, [](Options& o) { o.request_timeout_ms = 5000; });
    for (int i = 0; i < 60; ++i) {
      if (!client || !client->put("/s/" + std::to_string(i), std::to_string(i)).ok()) writer_failed = true;
      written = i + 1;
      testing::sleep_ms(10);
    }
  });
  while (written < 20) testing::sleep_ms(5);
  etcd.kill9(leader);
  std::vector<WatchEvent> events;
  auto start = std::chrono::steady_clock::now();
  while (testing::elapsed_ms(start) < 15000 && (written < 60 || events.size() < 60)) {
    auto got = w->poll(100);
    ASSERT_OK(got);
    events.insert(events.end(), got->begin(), got->end());
  }
  writer.join();
  ASSERT_FALSE(writer_failed);
  // A put retried after a lost answer may legitimately produce two events for one key:
  // compare with etcd's own count (version = puts since creation).
  int64_t expected = 0;
  auto all = watcher->range(RangeRequest::prefix("/s/"));
  ASSERT_OK(all);
  ASSERT_EQ(all->kvs.size(), 60u);
  for (const auto& kv : all->kvs) expected += kv.version;
  auto tail = w->poll(300);  // nothing more may come
  ASSERT_OK(tail);
  events.insert(events.end(), tail->begin(), tail->end());
  ASSERT_EQ(int64_t(events.size()), expected);
  for (size_t i = 1; i < events.size(); ++i) {
    ASSERT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision) << "repeated or out of order at " << i;
  }
  std::map<std::string, int> seen;
  for (const auto& ev : events) ++seen[ev.kv.key];
  EXPECT_EQ(seen.size(), 60u);
  EXPECT_GE(w->reconnects(), 1);
}

}  // namespace
}  // namespace pg_ha::etcd

namespace pg_ha::etcd {
namespace {

TEST(ThreeMembers, WatchOnAMemberThatLostQuorumIsDroppedAndResumes) {
  test::EtcdCluster etcd(three());
  auto watcher = testing::make_client({etcd.endpoint(0)});
  auto w = watcher->watch(WatchRequest::prefix("/q/"));
  ASSERT_OK(watcher->run_until([&] { return w->connected(); }, 5000));
  ASSERT_OK(watcher->put("/q/1", "a"));
  auto first = w->poll(2000);
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 1u);

  etcd.kill9(1);
  etcd.kill9(2);
  // Member 0 is alive but has no leader: with require-leader, etcd cancels our stream instead
  // of leaving it open and silent.
  auto start = std::chrono::steady_clock::now();
  while (w->connected() && testing::elapsed_ms(start) < 10000) ASSERT_OK(w->poll(100));
  EXPECT_FALSE(w->connected()) << "a watch on a member without leader stayed open";
  ::testing::Test::RecordProperty("watch_dropped_after_ms", std::to_string(testing::elapsed_ms(start)));
  auto no_leader = watcher->get("/q/1");
  EXPECT_FALSE(no_leader.ok());

  etcd.start(1);
  etcd.start(2);
  etcd.wait_healthy();
  auto writer = testing::make_client(etcd.endpoints(), [](Options& o) { o.request_timeout_ms = 5000; });
  ASSERT_OK(writer->put("/q/2", "b"));
  std::vector<WatchEvent> events;
  start = std::chrono::steady_clock::now();
  while (events.empty() && testing::elapsed_ms(start) < 10000) {
    auto got = w->poll(100);
    ASSERT_OK(got);
    events = *got;
  }
  ::testing::Test::RecordProperty("resumed_after_ms", std::to_string(testing::elapsed_ms(start)));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, "/q/2");
}

}  // namespace
}  // namespace pg_ha::etcd
