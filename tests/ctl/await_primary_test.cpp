// pg_hactl switchover/failover --wait: the poll for the new primary outlives the errors that a
// cluster in the middle of a move gives, and reports the last one when it gives up.
#include <gtest/gtest.h>

#include <stdexcept>

#include "await_primary.hpp"
#include "failure.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

json cluster_led_by(const std::string& leader, const std::string& role) {
  return {{"leader", leader}, {"members", json::array({{{"name", leader}, {"role", role}}})}};
}

AwaitPrimary quick(const std::string& old_leader, const std::string& target, milliseconds wait = milliseconds(5000)) {
  return {old_leader, target, wait, milliseconds(1)};
}

// CI stop 23: the old primary, restarted as a standby, refused status until its worker published;
// pg_hactl gave up on that refusal although the switchover had worked.
TEST(AwaitNewPrimary, ServerRefusalsWhileTheClusterMovesAreRetried) {
  int calls = 0;
  ClusterProbe probe = [&] {
    ++calls;
    if (calls == 1) throw Failure(kExitUnreachable, "lost the connection to 127.0.0.1:5432");
    if (calls == 2) throw Failure(kExitRefused, "pg_ha: the pg_ha worker has not published its status yet");
    if (calls == 3) return cluster_led_by("node1", "primary");   // not moved yet
    if (calls == 4) return cluster_led_by("node2", "replica");   // leads, not promoted yet
    return cluster_led_by("node2", "primary");
  };
  EXPECT_EQ(await_new_primary(probe, quick("node1", "node2")), "node2");
  EXPECT_EQ(calls, 5);
}

TEST(AwaitNewPrimary, AnyOtherMemberWhenNoTargetIsNamed) {
  ClusterProbe probe = [] { return cluster_led_by("node3", "primary"); };
  EXPECT_EQ(await_new_primary(probe, quick("node1", "")), "node3");
}

TEST(AwaitNewPrimary, ANewPrimaryThatIsNotTheTargetIsNotSuccess) {
  ClusterProbe probe = [] { return cluster_led_by("node3", "primary"); };
  try {
    await_new_primary(probe, quick("node1", "node2", milliseconds(30)));
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), kExitRefused);
    EXPECT_NE(std::string(f.what()).find("node2 is not the primary"), std::string::npos) << f.what();
  }
}

TEST(AwaitNewPrimary, GivingUpNamesTheLastError) {
  ClusterProbe probe = []() -> json { throw Failure(kExitRefused, "pg_ha: the pg_ha worker has not published its status yet"); };
  try {
    await_new_primary(probe, quick("node1", "node2", milliseconds(30)));
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), kExitRefused);
    std::string m = f.what();
    EXPECT_NE(m.find("the request was recorded"), std::string::npos) << m;
    EXPECT_NE(m.find("last error: pg_ha: the pg_ha worker has not published"), std::string::npos) << m;
  }
}

TEST(AwaitNewPrimary, MalformedDocumentsAreNotANewPrimary) {
  int calls = 0;
  ClusterProbe probe = [&] {
    ++calls;
    if (calls == 1) return json::array();
    if (calls == 2) return json{{"leader", 7}, {"members", "x"}};
    if (calls == 3) return json{{"leader", "node2"}, {"members", json::array({1, "x", nullptr})}};
    return cluster_led_by("node2", "primary");
  };
  EXPECT_EQ(await_new_primary(probe, quick("node1", "node2")), "node2");
}

}  // namespace
}  // namespace pg_ha::ctl
