// The include files the worker (and, for the parameters, the sidecar) render into state_dir.
#include <gtest/gtest.h>

#include "agent/auto_conf.hpp"

namespace pg_ha::agent {
namespace {

TEST(AutoConf, ReplicationConninfoOptionsReachPrimaryConninfo) {
  ReplicationSettings r;
  r.application_name = "n2";
  auto options = parse_conninfo_options("sslmode=verify-full  sslrootcert=/etc/pg/root.crt channel_binding=require");
  ASSERT_TRUE(options.ok()) << options.error().message;
  r.conninfo_options = *options;
  core::FollowTarget to;
  to.name = "n1";
  to.host = "10.0.0.1";
  to.port = 5432;
  std::string conf = render_auto_conf(to, r, "");
  EXPECT_NE(conf.find("sslmode=''verify-full'' sslrootcert=''/etc/pg/root.crt'' channel_binding=''require''"),
            std::string::npos)
      << conf;
  EXPECT_EQ(render_auto_conf(std::nullopt, r, "").find("sslmode"), std::string::npos);
}

TEST(AutoConf, OnlyTlsAndAuthenticationKeywordsAreAccepted) {
  EXPECT_TRUE(parse_conninfo_options("").ok());
  for (const char* bad : {"host=evil", "sslmode=sometimes", "sslmode", "user=postgres", "sslrootcert='/a'",
                          "sslcert=/a\\b", "=x", "passfile=/tmp/x"}) {
    EXPECT_FALSE(parse_conninfo_options(bad).ok()) << bad;
  }
}

TEST(AutoConf, ParametersHaveTheirOwnFile) {
  std::string conf = render_parameters_conf({{"work_mem", "8MB"}, {"log_line_prefix", "it's"}});
  EXPECT_NE(conf.find("work_mem = '8MB'\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("log_line_prefix = 'it''s'\n"), std::string::npos) << conf;
  ReplicationSettings r;
  EXPECT_EQ(render_auto_conf(std::nullopt, r, "").find("work_mem"), std::string::npos);
}

}  // namespace
}  // namespace pg_ha::agent

namespace pg_ha::agent {
namespace {

TEST(AutoConf, AReplicaStreamsThroughItsSlot) {
  ReplicationSettings r;
  r.application_name = "n2";
  core::FollowTarget to{"n1", "10.0.0.1", 5432};
  EXPECT_NE(render_auto_conf(to, r, "", "pgha_n2").find("primary_slot_name = 'pgha_n2'\n"), std::string::npos);
  // Without slots, and on a primary (nothing to follow), the setting is cleared: a slot named
  // by an earlier follow must not linger.
  EXPECT_NE(render_auto_conf(to, r, "", "").find("primary_slot_name = ''\n"), std::string::npos);
  EXPECT_NE(render_auto_conf(std::nullopt, r, "", "pgha_n2").find("primary_slot_name = ''\n"), std::string::npos);
}

}  // namespace
}  // namespace pg_ha::agent
