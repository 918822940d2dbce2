// Status in transitions (issue 16 item 7): a member whose position is unknown (postgres stopped
// for a demote, or not yet reporting a timeline) shows an unknown lag, not the primary's whole
// position in bytes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/snapshot.hpp"
#include "fixture/world.hpp"

namespace pg_ha::unit {
namespace {

using namespace pg_ha::core;
using nlohmann::json;

json member_of(World& w, const std::string& name) {
  EtcdView v = w.view();
  NodeConfig node;
  node.name = "n1";
  Observation obs;
  Decision d;
  agent::SnapshotInput in{node, w.config, &v, obs, d, true, ""};
  json doc = json::parse(agent::render_snapshot(in));
  for (const json& m : doc["members"])
    if (m["name"] == name) return m;
  return json();
}

TEST(MemberStatus, AStoppedOrUnpositionedMemberHasAnUnknownLag) {
  World w = World::cluster(3);
  for (int i = 1; i <= 3; ++i) w.run("n" + std::to_string(i));
  ASSERT_TRUE(member_of(w, "n2")["lag_bytes"].is_number_integer());

  MemberRecord m = w.view().members.at("n2").value;
  m.postgres_running = false;
  m.timeline = 0;
  m.flush_lsn = 0;
  m.replay_lsn = 0;
  w.put_member(m, w.node("n2").lease);
  EtcdView v = w.view();
  ASSERT_EQ(v.members.count("n2"), 1u) << (v.problems.empty() ? "" : v.problems.front());
  json shown = member_of(w, "n2");
  ASSERT_TRUE(shown.is_object() && shown.contains("lag_bytes")) << shown.dump();
  EXPECT_TRUE(shown["lag_bytes"].is_null()) << shown.dump();
}

}  // namespace
}  // namespace pg_ha::unit
