// pg_hactl restart: which members are asked, in which order.
#include <gtest/gtest.h>

#include "restart_order.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;
using Names = std::vector<std::string>;

json cluster() {
  return {{"leader", "node2"},
          {"members", json::array({{{"name", "node1"}, {"pending_restart", true}},
                                   {{"name", "node2"}, {"pending_restart", true}},
                                   {{"name", "node3"}, {"pending_restart", false}}})}};
}

TEST(RestartOrder, ReplicasFirstThenTheLeader) {
  EXPECT_EQ(restart_order({{}, true, false}, cluster(), ""), (Names{"node1", "node3", "node2"}));
  EXPECT_EQ(restart_order({{}, false, true}, cluster(), ""), (Names{"node1", "node2"})) << "--pending";
  EXPECT_EQ(restart_order({{"node2", "node3"}, false, false}, cluster(), ""), (Names{"node3", "node2"}));
}

// CI stop 23's sibling: the restart of the member the connection reaches ends the connection
// within milliseconds, so every other request must have gone before it.
TEST(RestartOrder, TheConnectedMemberGoesLast) {
  EXPECT_EQ(restart_order({{}, true, false}, cluster(), "node1"), (Names{"node3", "node2", "node1"}));
  EXPECT_EQ(restart_order({{}, true, false}, cluster(), "node2"), (Names{"node1", "node3", "node2"}));
  EXPECT_EQ(restart_order({{"node1"}, false, false}, cluster(), "node3"), (Names{"node1"})) << "not a target: no change";
}

TEST(RestartOrder, UnknownNamesAreStillSentForTheClusterToRefuse) {
  EXPECT_EQ(restart_order({{"nosuch", "node1"}, false, false}, cluster(), "node1"), (Names{"nosuch", "node1"}));
  EXPECT_EQ(restart_order({{"nosuch"}, false, false}, json::object(), ""), (Names{"nosuch"}));
}

}  // namespace
}  // namespace pg_ha::ctl
