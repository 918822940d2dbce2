// The sidecar runs as os_user and refuses root (issue 13 item 4; docs/sidecar.md).
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include "process.hpp"

using namespace pg_ha::sidecar;

namespace {

TEST(SidecarRunAs, RootIsRefusedWithAClearMessage) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto r = resolve_run_as("postgres");
  ASSERT_FALSE(r.ok()) << "root would write into directories the postgres user controls";
  EXPECT_NE(r.error().message.find("must not run as root"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("runuser -u postgres"), std::string::npos) << r.error().message;
}

TEST(SidecarRunAs, OwnUserIsAcceptedAnotherIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "runs as a non-root user";
  passwd* me = getpwuid(geteuid());
  ASSERT_NE(me, nullptr);
  auto r = resolve_run_as(me->pw_name);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->uid, geteuid());
  auto other = resolve_run_as("root");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not as os_user"), std::string::npos) << other.error().message;
}

TEST(SidecarRunAs, UnknownUserIsRefused) {
  auto r = resolve_run_as("no-such-user-pg-ha");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not exist"), std::string::npos);
}

}  // namespace
