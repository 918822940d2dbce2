// postgresql.pg_hba: each line a PostgreSQL 15 pg_hba record or the config is refused (the error
// names the line), and the worker's replacement of pg_hba.conf's cluster section.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/hba.hpp"

namespace pg_ha::core {
namespace {

TEST(Hba, GoodLinesAreAccepted) {
  for (const char* line : {
           "host all all 10.0.0.0/8 scram-sha-256",
           "hostssl app,reports \"app user\",+readers 192.168.1.0/24 cert clientcert=verify-full",
           "host all app 127.0.0.1 255.255.255.255 md5",
           "hostnossl sameuser all ::1/128 reject",
           "host all all .example.com scram-sha-256",
           "host all all samenet password",
           "local all backup peer map=backup",
           "hostgssenc all all all gss include_realm=0 krb_realm=EXAMPLE.COM",
           "hostnogssenc replication repl fe80::/10 ldap ldapserver=ldap.example.com ldapprefix=\"cn=\"",
           "host\tall\tall\t0.0.0.0/0\ttrust",
       }) {
    Status s = validate_hba_line(line);
    EXPECT_TRUE(s.ok()) << line << ": " << s.error().message;
  }
}

TEST(Hba, BadLinesAreRefusedAndNamed) {
  struct Case { std::string line, why; };
  for (const Case& c : std::vector<Case>{
           {"", "empty rule"},
           {"# just a comment", "comments"},
           {"host all all 10.0.0.0/8 trust # why", "comments"},
           {"include other.conf", "include"},
           {"include_dir conf.d", "include"},
           {"hots all all 10.0.0.0/8 trust", "connection type"},
           {"host all all 10.0.0.0/8", "method"},
           {"host all all 10.0.0.0/33 trust", "CIDR"},
           {"host all all 10.0.0/8 trust", "CIDR"},
           {"host all all 10.0.0.1 trust", "netmask"},
           {"host all all foo_bar trust", "host name"},
           {"host all all 10.0.0.0/8 magic", "authentication method"},
           {"host all all 10.0.0.0/8 peer", "local sockets"},
           {"host all all 10.0.0.0/8 cert", "hostssl"},
           {"local all all gss", "local sockets"},
           {"host @dbs all 10.0.0.0/8 trust", "@file"},
           {"host all @users 10.0.0.0/8 trust", "@file"},
           {"host all all 10.0.0.0/8 trust nokeyvalue", "key=value"},
           {"host all all 10.0.0.0/8 trust \\", "continuation"},
           {"host all all 10.0.0.0/8 trust\nhost all all 0.0.0.0/0 trust", "newlines"},
           {std::string("host all all 10.0.0.0/8 trust") + '\0', "NUL"},
           {"host \"all all 10.0.0.0/8 trust", "quote"},
           {"host all, all 10.0.0.0/8", "missing address"},
           {"host all all, 10.0.0.0/8 trust", "missing authentication method"},
           {"local all", "needs a database"},
       }) {
    Status s = validate_hba_line(c.line);
    ASSERT_FALSE(s.ok()) << "accepted: " << c.line;
    EXPECT_NE(s.error().message.find(c.why), std::string::npos) << c.line << ": " << s.error().message;
  }
  Status long_line = validate_hba_line("host all all 10.0.0.0/8 trust ldapprefix=" + std::string(1000, 'x'));
  ASSERT_FALSE(long_line.ok());
  EXPECT_NE(long_line.error().message.find("longer than"), std::string::npos);
}

TEST(Hba, ConfigKeyIsParsedValidatedAndEncoded) {
  auto c = parse_cluster_config(R"({"postgresql": {"pg_hba": ["host all app 10.0.0.0/8 scram-sha-256"]}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->pg_hba, std::vector<std::string>{"host all app 10.0.0.0/8 scram-sha-256"});
  auto again = parse_cluster_config(encode_cluster_config(*c));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pg_hba, c->pg_hba);

  auto bad = parse_cluster_config(R"({"postgresql": {"pg_hba": ["host all app 10.0.0.0/8 scram-sha-256", "host all all 1.2.3.4/99 trust"]}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("postgresql.pg_hba"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("1.2.3.4/99"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_cluster_config(R"({"postgresql": {"pg_hba": "host all all 10.0.0.0/8 trust"}})").ok());
  EXPECT_FALSE(parse_cluster_config(R"({"postgresql": {"pg_hba": [42]}})").ok());

  std::string many = R"({"postgresql": {"pg_hba": [)";
  for (size_t i = 0; i <= kMaxHbaRules; ++i) many += std::string(i ? "," : "") + "\"host all all 10.0.0.0/8 md5\"";
  auto too_many = parse_cluster_config(many + "]}}");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("at most"), std::string::npos) << too_many.error().message;
}

TEST(Hba, WorkerReplacesOnlyTheClusterSection) {
  std::string head = "# sidecar\nlocal all all peer map=pg_ha\nhost replication repl 10.0.0.0/8 scram-sha-256\n";
  std::string tail = "host all all 127.0.0.1/32 scram-sha-256\n";
  std::string file = head + render_cluster_hba_section({}) + tail;
  auto next = replace_cluster_hba_section(file, {"host all app 10.1.0.0/16 md5", "host all all 0.0.0.0/0 reject"});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, head + kHbaBeginMarker + "\nhost all app 10.1.0.0/16 md5\nhost all all 0.0.0.0/0 reject\n" +
                       kHbaEndMarker + "\n" + tail);
  EXPECT_EQ(cluster_hba_rules(*next), (std::vector<std::string>{"host all app 10.1.0.0/16 md5", "host all all 0.0.0.0/0 reject"}));
  EXPECT_EQ(replace_cluster_hba_section(*next, {}), file);
  // Not the sidecar's file (no section, or a section never closed): left alone.
  EXPECT_FALSE(replace_cluster_hba_section(head + tail, {"host all all 0.0.0.0/0 trust"}).has_value());
  EXPECT_FALSE(replace_cluster_hba_section(head + kHbaBeginMarker + "\n" + tail, {}).has_value());
  EXPECT_FALSE(cluster_hba_rules(head).has_value());
}

}  // namespace
}  // namespace pg_ha::core
