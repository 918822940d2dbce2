// Issue 13, item 6: history is bounded in etcd (history_limit, the primary prunes with compares)
// and the status snapshot keeps publishing after any number of failovers.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/snapshot.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;

void add_failovers(World& w, int64_t first_term, int64_t last_term) {
  for (int64_t term = first_term; term <= last_term; ++term) {
    HistoryRecord h;
    h.term = term;
    h.reason = term % 2 ? "switchover" : "failover";
    h.old_primary = term % 2 ? "n2" : "n1";
    h.new_primary = term % 2 ? "n1" : "n2";
    h.old_timeline = static_cast<uint32_t>(term);
    h.lsn = World::kBase;
    h.at_unix_ms = 1700000000000 + term;
    w.put_history(h);
  }
}

std::string snapshot(World& w, const std::string& name) {
  EtcdView v = w.view();
  NodeConfig node = w.node(name).cfg;
  Decision d;
  agent::SnapshotInput in{node, w.config, &v, w.node(name).obs.get(), d, true, ""};
  return agent::render_snapshot(in);
}

TEST(HistoryBound, FiveHundredFailoversArePrunedToTheLimit) {
  World w = World::cluster(3);
  add_failovers(w, 2, 501);
  ASSERT_EQ(w.view().history.size(), 501u);
  for (int i = 0; i < 30 && w.view().history.size() > 100; ++i) {
    w.run("n1");
    w.advance(100);
  }
  EtcdView v = w.view();
  ASSERT_EQ(v.history.size(), 100u);
  EXPECT_EQ(v.history.begin()->first, 402) << "the oldest went, the newest stayed";
  EXPECT_EQ(v.history.rbegin()->first, 501);
  std::string text = snapshot(w, "n1");
  EXPECT_LE(text.size(), agent::kSnapshotMaxBytes);
  auto doc = nlohmann::json::parse(text);
  EXPECT_FALSE(doc.contains("history_omitted")) << "100 entries fit whole";
  EXPECT_EQ(doc["members"].size(), 3u);
}

TEST(HistoryBound, OnlyTheLeaderPrunesAndOnlyWithCompares) {
  World w = World::cluster(3);
  add_failovers(w, 2, 150);
  Decision replica = w.step("n2").decision;
  EXPECT_EQ(find_write(replica, "prune history"), nullptr);
  Decision primary = w.step("n1").decision;
  const EtcdWrite* prune = find_write(primary, "prune history");
  ASSERT_NE(prune, nullptr);
  EXPECT_TRUE(has_compare(prune->txn, kv::Compare::lease_is(w.keys.leader(), w.lease_of("n1"))));
  EXPECT_EQ(prune->txn.success.size(), 32u) << "a bounded number of deletes per transaction";
  EXPECT_NE(find_op(prune->txn, kv::RequestOp::Kind::DeleteRange, w.keys.history(1)), nullptr);
}

TEST(HistoryBound, LimitIsConfigurable) {
  ClusterConfig c;
  c.history_limit = 10;
  World w = World::cluster(3, c);
  add_failovers(w, 2, 40);
  for (int i = 0; i < 5; ++i) w.run("n1");
  EXPECT_EQ(w.view().history.size(), 10u);
  auto parsed = parse_cluster_config(R"({"history_limit": 0})");
  EXPECT_FALSE(parsed.ok());
  parsed = parse_cluster_config(R"({"history_limit": 5})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->history_limit, 5);
  EXPECT_EQ(parse_cluster_config(encode_cluster_config(*parsed))->history_limit, 5);
}

}  // namespace
}  // namespace pg_ha::unit
