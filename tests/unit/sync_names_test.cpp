// synchronous_standby_names: the one form pg_ha writes, and what it understands when read back.
#include <gtest/gtest.h>

#include "core/sync_names.hpp"

namespace pg_ha::core {
namespace {

TEST(SyncNames, FormatParseRoundTrip) {
  for (const SyncNames& s : {SyncNames{1, {"n2"}}, SyncNames{2, {"a", "b", "c"}}, SyncNames{3, {"n-1", "n.2", "n_3"}}}) {
    std::string text = format_sync_names(s);
    SyncNames back;
    ASSERT_TRUE(parse_sync_names(text, &back)) << text;
    EXPECT_EQ(back, s) << text;
  }
  EXPECT_EQ(format_sync_names(SyncNames{2, {"a", "b"}}), "ANY 2 (\"a\", \"b\")");
}

TEST(SyncNames, EmptyMeansAsynchronous) {
  EXPECT_EQ(format_sync_names(SyncNames{}), "");
  EXPECT_EQ(format_sync_names(SyncNames{0, {"a"}}), "");
  EXPECT_EQ(format_sync_names(SyncNames{1, {}}), "");
  SyncNames out{3, {"x"}};
  ASSERT_TRUE(parse_sync_names("   ", &out));
  EXPECT_EQ(out, SyncNames{});
}

TEST(SyncNames, FirstWithExactlyNNamesIsUnderstood) {
  SyncNames out;
  ASSERT_TRUE(parse_sync_names("FIRST 2 (b, a)", &out));
  EXPECT_EQ(out, (SyncNames{2, {"a", "b"}}));
  ASSERT_TRUE(parse_sync_names("first 1 (\"n2\")", &out));
  EXPECT_EQ(out, (SyncNames{1, {"n2"}}));
}

TEST(SyncNames, UnquotedAndLowercaseAnyAreUnderstood) {
  SyncNames out;
  ASSERT_TRUE(parse_sync_names("any 1 ( n3 ,n2 )", &out));
  EXPECT_EQ(out, (SyncNames{1, {"n2", "n3"}}));
}

TEST(SyncNames, BadFormsAreRejected) {
  for (const char* bad : {
           "FIRST 1 (a, b)",      // FIRST with more names than its count: a priority list we do not write
           "FIRST 2 (a)",
           "*",
           "2 (a, b)",           // the bare numeric form
           "a, b",               // the old list form
           "ANY",
           "ANY 1",
           "ANY x (a)",
           "ANY -1 (a)",
           "ANY 1000 (a)",
           "ANY 1 a",
           "ANY 1 (a",
           "ANY 1 ()",
           "ANY 1 (a,)",
           "ANY 1 (a) trailing",
           "ANY 1 (\"a)",
           "SOME 1 (a)",
       }) {
    SyncNames out;
    EXPECT_FALSE(parse_sync_names(bad, &out)) << "accepted \"" << bad << "\"";
  }
}

TEST(StandbyApplicationName, CarriesTheIdentityPrefixAndParsesBack) {
  EXPECT_EQ(standby_application_name("n2", "3f9a1c07d2e4b5a6"), "n2@3f9a1c07");
  EXPECT_EQ(standby_application_name("n2", ""), "n2");
  StandbyName back = parse_standby_application_name("node-2.dc@3f9a1c07");
  EXPECT_EQ(back.name, "node-2.dc");
  EXPECT_EQ(back.identity, "3f9a1c07");
  EXPECT_TRUE(same_identity(back.identity, "3f9a1c07d2e4b5a6"));
  EXPECT_FALSE(same_identity(back.identity, "3f9a1c08d2e4b5a6"));
  EXPECT_FALSE(same_identity("", "3f9a1c07d2e4b5a6")) << "a standby without identity is not the member's";
  EXPECT_TRUE(same_identity("", "")) << "nodes without identities (no sidecar) match by name";
  EXPECT_EQ(parse_standby_application_name("pg_basebackup").identity, "");
  SyncNames named;
  ASSERT_TRUE(parse_sync_names(format_sync_names(SyncNames{1, {"n2@3f9a1c07"}}), &named));
  EXPECT_EQ(named.names, std::vector<std::string>{"n2@3f9a1c07"});
}

}  // namespace
}  // namespace pg_ha::core
