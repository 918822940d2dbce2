// The split-brain check itself (no cluster): what it must find and what it must let pass.
#include <gtest/gtest.h>

#include "two_writers.hpp"

namespace pg_ha::test {
namespace {

WritableSample at(int node, int64_t timeline, int64_t before, int64_t after) {
  return WritableSample{node, timeline, before, after};
}

TEST(TwoWriters, AHandOverInOrderPasses) {
  EXPECT_EQ(two_writers({at(0, 1, 100, 110), at(0, 1, 200, 210), at(2, 2, 300, 310), at(2, 2, 400, 410)}), "");
}

TEST(TwoWriters, ASlowProbeOfTheOldPrimaryOverlappingTheNewOnePasses) {
  // The old primary's answer began before the new one's ended: not proof of two writers.
  EXPECT_EQ(two_writers({at(2, 2, 300, 310), at(0, 1, 305, 900)}), "");
}

TEST(TwoWriters, TheOldLineageWritableAfterTheNewOneIsFound) {
  std::string v = two_writers({at(0, 1, 100, 110), at(2, 2, 300, 310), at(0, 1, 311, 320)});
  EXPECT_NE(v.find("older lineage"), std::string::npos) << v;
}

TEST(TwoWriters, ItIsFoundWhateverOrderTheSamplesCameIn) {
  std::string v = two_writers({at(0, 1, 500, 510), at(1, 3, 400, 410), at(2, 2, 300, 310)});
  EXPECT_NE(v.find("older lineage"), std::string::npos) << v;
}

TEST(TwoWriters, TwoNodesOnOneTimelineAreFound) {
  std::string v = two_writers({at(0, 4, 100, 110), at(1, 4, 5000, 5010), at(0, 4, 5011, 5020)});
  EXPECT_NE(v.find("one timeline"), std::string::npos) << v;
  v = two_writers({at(1, 4, 5000, 5010), at(0, 4, 100, 110), at(1, 4, 5011, 5020), at(0, 4, 6000, 6010)});
  EXPECT_NE(v.find("one timeline"), std::string::npos) << v;
}

TEST(TwoWriters, OneNodeAfterAnotherOnOneTimelinePasses) {
  // A switchover target promoted to timeline 2 and was killed; the next candidate could not see
  // its history file and promoted to "timeline 2" too (seen in
  // NewPrimaryKilledWhileTheOldOneIsDemotedLeavesAWorkingCluster): one writer at a time.
  EXPECT_EQ(two_writers({at(0, 1, 50, 60), at(1, 2, 100, 110), at(1, 2, 200, 210), at(2, 2, 3500, 3510)}), "");
}

TEST(TwoWriters, ANodeBackOnItsOwnTimelineAfterAPauseIsOneLineage) {
  // Unfenced in the same term after an etcd outage: the same node, the same timeline.
  EXPECT_EQ(two_writers({at(1, 3, 100, 110), at(1, 3, 9000, 9010)}), "");
}

}  // namespace
}  // namespace pg_ha::test
