// edit-config's pure half: --set/--pg into a merge patch, the patch between two documents, the diff.
#include <gtest/gtest.h>

#include "config_patch.hpp"

namespace pg_ha::ctl {
namespace {

TEST(PatchFromAssignments, ValuesAreJsonWhenTheyParseAndTextOtherwise) {
  auto p = patch_from_assignments({"ttl=10", "synchronous_mode=on", "synchronous_mode_strict=true",
                                   "maximum_lag_on_failover=null", "note=\"quoted\""},
                                  {});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, json::parse(R"({"ttl":10,"synchronous_mode":"on","synchronous_mode_strict":true,
                                "maximum_lag_on_failover":null,"note":"quoted"})"));
}

TEST(PatchFromAssignments, DottedKeysAndPgParametersNest) {
  auto p = patch_from_assignments({"postgresql.parameters.work_mem=8MB"}, {"max_connections=200", "wal_level=replica"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, json::parse(R"({"postgresql":{"parameters":{"work_mem":"8MB","max_connections":200,"wal_level":"replica"}}})"));
}

TEST(PatchFromAssignments, ValueMayContainEquals) {
  auto p = patch_from_assignments({}, {"search_path=a=b"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["postgresql"]["parameters"]["search_path"], "a=b");
}

TEST(PatchFromAssignments, BadInputIsAClearError) {
  for (const char* bad : {"ttl", "=10", "ttl=", "a..b=1", ".a=1", "a.=1"}) {
    auto p = patch_from_assignments({bad}, {});
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().kind, ErrorKind::Invalid);
    EXPECT_NE(p.error().message.find(bad), std::string::npos) << p.error().message;
  }
  EXPECT_FALSE(patch_from_assignments({"a=1", "a.b=2"}, {}).ok());   // a is a value, not an object
  EXPECT_FALSE(patch_from_assignments({}, {"a.b=1"}).ok());          // --pg takes a parameter name
}

TEST(MergePatchBetween, ChangedAddedRemovedAndNested) {
  json from = json::parse(R"({"ttl":10,"gone":1,"postgresql":{"parameters":{"a":"1","b":"2"}}})");
  json to = json::parse(R"({"ttl":20,"new":true,"postgresql":{"parameters":{"a":"1","c":"3"}}})");
  json patch = merge_patch_between(from, to);
  EXPECT_EQ(patch, json::parse(R"({"ttl":20,"gone":null,"new":true,"postgresql":{"parameters":{"b":null,"c":"3"}}})"));
  EXPECT_EQ(apply_merge_patch(from, patch), to);
  EXPECT_TRUE(merge_patch_between(from, from).empty());
}

TEST(LineDiff, ShowsOnlyChangesWithContext) {
  std::string before = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
  std::string after = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
  EXPECT_EQ(line_diff(before, after, 1), "@@\n d\n-e\n+E\n f\n");
  EXPECT_EQ(line_diff(before, before), "");
  EXPECT_EQ(line_diff("x\n", "x\ny\n"), " x\n+y\n");
}

TEST(LineDiff, OfPrettyConfigJson) {
  json from = json::parse(R"({"ttl":10,"loop_wait_ms":1000})");
  std::string d = line_diff(from.dump(2), apply_merge_patch(from, {{"ttl", 20}}).dump(2));
  EXPECT_NE(d.find("-  \"ttl\": 10\n"), std::string::npos) << d;
  EXPECT_NE(d.find("+  \"ttl\": 20\n"), std::string::npos) << d;
  EXPECT_EQ(d.find("-  \"loop_wait_ms\""), std::string::npos) << d;   // unchanged: context only
}

}  // namespace
}  // namespace pg_ha::ctl
