// The `?lag=` parameter of the replica health checks (ctest label: unit).
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "health.hpp"
#include "pg_ops.hpp"
#include "common/quoting.hpp"

using namespace pg_ha::sidecar;

TEST(SidecarLag, PlainBytesAndUnits) {
  EXPECT_EQ(*parse_lag("0"), 0);
  EXPECT_EQ(*parse_lag("1024"), 1024);
  EXPECT_EQ(*parse_lag("512B"), 512);
  EXPECT_EQ(*parse_lag("16kB"), 16 * 1024);
  EXPECT_EQ(*parse_lag("16MB"), 16 * 1024 * 1024);
  EXPECT_EQ(*parse_lag("16mb"), 16 * 1024 * 1024);
  EXPECT_EQ(*parse_lag("1GB"), int64_t{1} << 30);
  EXPECT_EQ(*parse_lag("2 TB"), int64_t{2} << 40);
}

TEST(SidecarLag, RefusesGarbage) {
  for (const char* bad : {"", "MB", "-1", "16XB", "1.5GB", "99999999999999999999", "16MBx", "8388608TB"})
    EXPECT_FALSE(parse_lag(bad).ok()) << bad;
}

TEST(SidecarPassfile, FindsTheUsersPasswordWithEscapes) {
  // A file of our own, removed however the test ends.
  std::string path = testing::TempDir() + "/sidecar_passfile_XXXXXX";
  int fd = mkstemp(path.data());
  ASSERT_GE(fd, 0);
  std::unique_ptr<const char, void (*)(const char*)> remove_at_end(path.c_str(), [](const char* p) { unlink(p); });
  FILE* f = fdopen(fd, "w");
  fputs("# comment\nh:5432:db:other:nope\n*:*:*:replicator:pa\\:ss\\\\word\n", f);
  fclose(f);
  auto pw = password_from_passfile(path, "replicator");
  ASSERT_TRUE(pw.ok()) << pw.error().message;
  EXPECT_EQ(*pw, "pa:ss\\word");
  EXPECT_FALSE(password_from_passfile(path, "nobody").ok());
}

TEST(SidecarConf, QuotesForPostgresqlConf) {
  EXPECT_EQ(pg_ha::quoting::conf_value("a'b"), "'a''b'");
  EXPECT_EQ(pg_ha::quoting::conf_value("/x y"), "'/x y'");
}
