// The pure parts of pg_hactl's output: the table drawing and the cluster table.
#include <gtest/gtest.h>

#include "member_table.hpp"
#include "table.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

TEST(Table, DrawsBordersHeaderAndAlignedCells) {
  Table t;
  t.header = {"Member", "TL"};
  t.right_aligned = {false, true};
  t.rows = {{"node1", "1"}, {"n2", "12"}};
  EXPECT_EQ(render_table(t),
            "+--------+----+\n"
            "| Member | TL |\n"
            "+--------+----+\n"
            "| node1  |  1 |\n"
            "| n2     | 12 |\n"
            "+--------+----+\n");
}

TEST(Table, TitleGoesIntoTheTopBorderAndShortRowsArePadded) {
  Table t;
  t.header = {"Member", "Host", "Role"};
  t.rows = {{"node1"}};
  std::string out = render_table(t, "Cluster: it");
  EXPECT_EQ(out.substr(0, out.find('\n')), "+ Cluster: it --+------+");
  EXPECT_NE(out.find("| node1  |      |      |\n"), std::string::npos) << out;
}

TEST(Table, TitleWiderThanTheTableStillShows) {
  Table t;
  t.header = {"A"};
  std::string out = render_table(t, "Cluster: a-long-cluster-name");
  EXPECT_EQ(out.rfind("+ Cluster: a-long-cluster-name ", 0), 0u) << out;
}

json three_members() {
  return json::parse(R"({
    "cluster": "it", "leader": "node2", "term": 4, "paused": false, "sync_standbys": ["node3"],
    "members": [
      {"name": "node1", "role": "replica", "state": "streaming", "timeline": 3, "lag_bytes": 73400320,
       "host": "10.0.0.1", "port": 5432, "tags": {"nofailover": false, "priority": 100}, "pending_restart": false},
      {"name": "node2", "role": "primary", "state": "running", "timeline": 3, "lag_bytes": 0,
       "host": "10.0.0.2", "port": 5432, "tags": {"nofailover": false, "priority": 100}, "pending_restart": false},
      {"name": "node3", "role": "replica", "state": "streaming", "timeline": 3, "lag_bytes": null,
       "host": "10.0.0.3", "port": 5432, "tags": {"nofailover": false, "priority": 100}, "pending_restart": false,
       "sync": true}
    ]})");
}

TEST(MemberTable, LeaderFirstSyncMarkedLagInMegabytes) {
  std::string out = render_members(three_members());
  EXPECT_EQ(out,
            "+ Cluster: it (term 4) --+--------------+-----------+----+-----------+\n"
            "| Member | Host          | Role         | State     | TL | Lag in MB |\n"
            "+--------+---------------+--------------+-----------+----+-----------+\n"
            "| node2  | 10.0.0.2:5432 | primary      | running   |  3 |           |\n"
            "| node1  | 10.0.0.1:5432 | replica      | streaming |  3 |        70 |\n"
            "| node3  | 10.0.0.3:5432 | sync standby | streaming |  3 |   unknown |\n"
            "+--------+---------------+--------------+-----------+----+-----------+\n");
}

TEST(MemberTable, PendingRestartTagsAndMaintenanceOnlyWhenPresent) {
  json c = three_members();
  c["paused"] = true;
  c["members"][0]["pending_restart"] = true;
  c["members"][2]["tags"] = {{"nofailover", true}, {"priority", 0}};
  std::string out = render_members(c);
  EXPECT_NE(out.find("| Pending restart | Tags"), std::string::npos) << out;
  EXPECT_NE(out.find("| *               |"), std::string::npos) << out;
  EXPECT_NE(out.find("nofailover: true, priority: 0"), std::string::npos) << out;
  EXPECT_NE(out.find(" Maintenance mode: on\n"), std::string::npos) << out;
  EXPECT_EQ(render_members(three_members()).find("Maintenance"), std::string::npos);
}

// Issue 16: a member that is down is listed with why (members().reason), and only then is the
// column there.
TEST(MemberTable, DownMembersShowTheirReason) {
  json c = three_members();
  c["members"][0]["state"] = "start failed";
  c["members"][0]["reason"] = "exit code 1: FATAL:  could not write lock file \"postmaster.pid\": No space left on device";
  std::string out = render_members(c);
  EXPECT_NE(out.find("| Reason"), std::string::npos) << out;
  EXPECT_NE(out.find("| start failed |"), std::string::npos) << out;
  EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;
  EXPECT_EQ(render_members(three_members()).find("Reason"), std::string::npos);
}

TEST(MemberTable, TopologyIndentsReplicasUnderThePrimary) {
  std::string out = render_members(three_members(), true);
  EXPECT_NE(out.find("| node2   |"), std::string::npos) << out;
  EXPECT_NE(out.find("| + node1 |"), std::string::npos) << out;
  EXPECT_NE(out.find("| + node3 |"), std::string::npos) << out;
}

TEST(MemberTable, NoLeaderNullFieldsAndMissingMembersDoNotThrow) {
  json c = {{"cluster", nullptr}, {"leader", nullptr}, {"term", nullptr}, {"paused", nullptr},
            {"members", json::array({{{"name", "node1"}, {"role", "replica"}, {"state", "stopped"}}})}};
  std::string out;
  ASSERT_NO_THROW(out = render_members(c, true));
  EXPECT_NE(out.find("+ Cluster: ? "), std::string::npos) << out;
  EXPECT_NE(out.find("| node1  |"), std::string::npos) << out;   // nothing to indent under
  EXPECT_NO_THROW(render_members(json::object()));
}

// Issue 16 item 7: an old primary during its demotion is not shown as a second primary.
TEST(MemberTable, AMemberRecordedAsPrimaryWithoutLeaderIsAnOldPrimary) {
  json c = three_members();
  json m = c["members"][0];
  m["role"] = "primary";
  EXPECT_EQ(display_role(c, m), "old primary");
  EXPECT_EQ(display_role(c, c["members"][1]), "primary");
}

}  // namespace
}  // namespace pg_ha::ctl
