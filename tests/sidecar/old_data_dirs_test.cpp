// Re-cloned data directories are kept for the operator, but at most keep_old_data_dirs of them
// (sidecar/old_data_dirs.hpp, issue 14): before, every re-clone left one more copy, forever.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "old_data_dirs.hpp"

namespace pg_ha::sidecar {
namespace {

namespace fs = std::filesystem;

TEST(OldDataDirs, KeepsTheNewestOnly) {
  std::vector<std::string> names = {"data", "data.old-20261205T120000Z", "data.old-20261205T130000Z",
                                    "data.old-20261204T235959Z", "other.old-20261201T000000Z", "data.old-notastamp",
                                    "data.older-20261201T000000Z"};
  EXPECT_EQ(old_data_dirs_to_remove("data", names, 1),
            (std::vector<std::string>{"data.old-20261204T235959Z", "data.old-20261205T120000Z"}));
  EXPECT_EQ(old_data_dirs_to_remove("data", names, 2), (std::vector<std::string>{"data.old-20261204T235959Z"}));
  EXPECT_TRUE(old_data_dirs_to_remove("data", names, 3).empty());
  EXPECT_EQ(old_data_dirs_to_remove("data", names, 0).size(), 3u);
}

TEST(OldDataDirs, RepeatedStampsSortByTheirNumberNotAsText) {
  // move_aside adds -1, -2 ... when a stamp repeats within one second; "-10" is newer than "-9".
  std::vector<std::string> names = {"d.old-20261205T120000Z-10", "d.old-20261205T120000Z-9", "d.old-20261205T120000Z",
                                    "d.old-20261205T120000Z-2"};
  EXPECT_EQ(old_data_dirs_to_remove("d", names, 1),
            (std::vector<std::string>{"d.old-20261205T120000Z", "d.old-20261205T120000Z-2", "d.old-20261205T120000Z-9"}));
}

TEST(OldDataDirs, PruneRemovesWholeDirectoriesAndLeavesTheRest) {
  char tmpl[] = "/tmp/pg_ha_old_dirs_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path base(tmpl);
  for (const char* d : {"data", "data.old-20261205T100000Z", "data.old-20261205T110000Z", "data.old-20261205T120000Z"}) {
    fs::create_directories(base / d / "base" / "1");
    std::ofstream(base / d / "base" / "1" / "16384") << "rows";
  }
  auto removed = prune_old_data_dirs((base / "data").string(), 1);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_TRUE(fs::exists(base / "data" / "base" / "1" / "16384"));
  EXPECT_TRUE(fs::exists(base / "data.old-20261205T120000Z"));
  EXPECT_FALSE(fs::exists(base / "data.old-20261205T100000Z"));
  EXPECT_FALSE(fs::exists(base / "data.old-20261205T110000Z"));
  // A trailing slash on data_dir names the same directory.
  auto again = prune_old_data_dirs((base / "data").string() + "/", 1);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  fs::remove_all(base);
}

}  // namespace
}  // namespace pg_ha::sidecar
