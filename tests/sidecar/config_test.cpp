// The sidecar's configuration file parser and flags (ctest label: unit).
#include <gtest/gtest.h>

#include "config.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

namespace {

const char* kMinimal =
    "name = node1\n"
    "cluster = 'c1'\n"
    "data_dir = '/var/lib/pg/data'\n"
    "state_dir = /var/lib/pg/state\n"
    "replication_passfile = '/etc/pg_ha/repl.pgpass'\n";

Result<SidecarConfig> from_text(const std::string& text) {
  auto pairs = parse_config_text(text, "test.conf");
  if (!pairs) return pairs.error();
  SidecarConfig c;
  for (const auto& [k, v] : *pairs) {
    Status s = apply_config_key(&c, k, v);
    if (!s) return s.error();
  }
  Status valid = validate_config(c);
  if (!valid) return valid.error();
  return c;
}

TEST(SidecarConfig, ParsesKeysCommentsAndQuotes) {
  auto c = from_text(std::string(kMinimal) +
                     "# a comment\n\n  port = 5433   # trailing comment\n"
                     "etcd_endpoints = 'http://a:2379,http://b:2379'\n"
                     "listen_host = '127.0.0.1'\nsuperuser = 'it''s'\nnofailover = on\npriority = 0\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name, "node1");
  EXPECT_EQ(c->cluster, "c1");
  EXPECT_EQ(c->port, 5433);
  EXPECT_EQ(c->state_dir, "/var/lib/pg/state");
  EXPECT_EQ(c->etcd_endpoints, "http://a:2379,http://b:2379");
  EXPECT_EQ(c->superuser, "it's");
  EXPECT_TRUE(c->tags.nofailover);
  EXPECT_EQ(c->tags.priority, 0);
  EXPECT_EQ(c->bin_dir, "/usr/lib/postgresql/15/bin");
  EXPECT_EQ(c->key_prefix, "/pg_ha");
  EXPECT_EQ(c->effective_socket_dir(), "/var/lib/pg/state/run");
  EXPECT_EQ(c->effective_connect_host(), "127.0.0.1");
  EXPECT_TRUE(c->preloads_pg_ha());
}

TEST(SidecarConfig, UnknownKeyNamesTheLine) {
  auto c = from_text(std::string(kMinimal) + "\nprot = 5432\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("test.conf:7"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("prot"), std::string::npos);
}

TEST(SidecarConfig, BadValuesAreRefused) {
  EXPECT_FALSE(from_text(std::string(kMinimal) + "port = 70000\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "port = 54x\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "nofailover = maybe\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "name = 'bad name'\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "http_listen = nocolon\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "data_dir = relative/path\n").ok());
  EXPECT_FALSE(from_text(std::string(kMinimal) + "state_dir = '/var/lib/pg/data'\n").ok());
  EXPECT_FALSE(from_text("name = 'unterminated\n").ok());
}

TEST(SidecarConfig, ClientNetworksAreCidrs) {
  auto c = from_text(std::string(kMinimal) + "client_networks = '10.0.0.0/8, 192.168.1.0/24'\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->client_networks, "10.0.0.0/8, 192.168.1.0/24");
  auto bad = from_text(std::string(kMinimal) + "client_networks = '10.0.0.0/8, everywhere'\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("client_networks"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("everywhere"), std::string::npos) << bad.error().message;
}

TEST(SidecarConfig, RequiredKeys) {
  auto c = from_text("name = n1\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("cluster"), std::string::npos);
}

TEST(SidecarConfig, FlagsOverrideAndDashesEqualUnderscores) {
  bool help = false;
  auto c = load_config({"--name", "n2", "--cluster=c", "--data-dir", "/d", "--state_dir", "/s",
                        "--replication-passfile", "/p", "--port", "6000", "--http-listen", "[::1]:8009"},
                       &help);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(help);
  EXPECT_EQ(c->name, "n2");
  EXPECT_EQ(c->data_dir, "/d");
  EXPECT_EQ(c->port, 6000);
  std::string host;
  int port = 0;
  ASSERT_TRUE(split_host_port(c->http_listen, &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8009);
}

TEST(SidecarConfig, UnknownFlagAndHelp) {
  bool help = false;
  EXPECT_FALSE(load_config({"--nmae", "x"}, &help).ok());
  EXPECT_FALSE(load_config({"--name"}, &help).ok());
  EXPECT_TRUE(load_config({"--help"}, &help).ok());
  EXPECT_TRUE(help);
  EXPECT_FALSE(load_config({"--config", "/nonexistent/file.conf"}, &help).ok());
}

TEST(SidecarConfig, PreloadWithoutPgHa) {
  auto c = from_text(std::string(kMinimal) + "shared_preload_libraries = 'pg_stat_statements'\n");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->preloads_pg_ha());
  c = from_text(std::string(kMinimal) + "shared_preload_libraries = 'pg_stat_statements, pg_ha'\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->preloads_pg_ha());
}

}  // namespace

// Issue 13: peers put connect_host into primary_conninfo; a quote or a newline would inject.
TEST(SidecarConfig, HostileConnectHostIsRefused) {
  auto c = from_text(std::string(kMinimal) + "connect_host = 'h\\' \\ninclude \\'/tmp/evil'\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("connect_host"), std::string::npos) << c.error().message;
  EXPECT_FALSE(from_text(std::string(kMinimal) + "listen_host = '*'\n").ok()) << "peers cannot connect to *";
  EXPECT_TRUE(from_text(std::string(kMinimal) + "listen_host = '*'\nconnect_host = db1.example.com\n").ok());
}

// The file reads quoted values as postgresql.conf does (common/quoting.hpp).
TEST(SidecarConfig, QuotedValuesUsePostgresEscapes) {
  auto c = from_text(std::string(kMinimal) + "superuser = 'a\\tb''c\\\\d'\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->superuser, "a\tb'c\\d");
}

namespace {

// etcd credentials over plain http travel in clear text: refused unless the operator opts in.
TEST(SidecarConfig, EtcdCredentialsOverHttpNeedAnOptIn) {
  std::string with_user = std::string(kMinimal) + "etcd_endpoints = 'https://a:2379,http://b:2379'\netcd_user = root\n";
  auto refused = from_text(with_user);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("clear text to http://b:2379"), std::string::npos) << refused.error().message;
  auto allowed = from_text(with_user + "etcd_allow_insecure_auth = on\n");
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_TRUE(allowed->etcd_allow_insecure_auth);
  EXPECT_TRUE(from_text(std::string(kMinimal) + "etcd_endpoints = 'https://a:2379'\netcd_user = root\n").ok());
  EXPECT_TRUE(from_text(std::string(kMinimal) + "etcd_endpoints = 'http://a:2379'\n").ok());   // no credentials
}

TEST(SidecarConfig, ReplicationConninfoOptionsAreChecked) {
  auto c = from_text(std::string(kMinimal) +
                     "replication_conninfo_options = 'sslmode=verify-full sslrootcert=/etc/pg/root.crt channel_binding=require'\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (const char* bad : {"sslmode=sometimes", "host=evil", "sslrootcert='/a b'", "sslmode", "password=x",
                          "sslrootcert=/a\\b", "channel_binding=require dbname=x", "sslkey=/k\nhost=evil"}) {
    SidecarConfig config = *c;
    ASSERT_TRUE(apply_config_key(&config, "replication_conninfo_options", bad).ok());
    Status valid = validate_config(config);
    EXPECT_FALSE(valid.ok()) << bad;
    if (!valid.ok()) {
      EXPECT_NE(valid.error().message.find("replication_conninfo_options"), std::string::npos);
    }
  }
}

}  // namespace

namespace {

// Member slots hold WAL for replicas; this caps it (docs/operations.md, "Replication slots").
TEST(SidecarConfig, SlotWalCapHasADefaultAndCanBeSet) {
  auto c = from_text(kMinimal);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_slot_wal_keep_size, "8GB");
  c = from_text(std::string(kMinimal) + "max_slot_wal_keep_size = '-1'\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_slot_wal_keep_size, "-1");
}

TEST(SidecarConfig, OldDataDirsAndRewindUser) {
  auto d = from_text(kMinimal);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->keep_old_data_dirs, 1);
  EXPECT_EQ(d->effective_rewind_user(), "replicator");   // unset: as before
  auto c = from_text(std::string(kMinimal) + "keep_old_data_dirs = 0\nrewind_user = pgha_rewind\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->keep_old_data_dirs, 0);
  EXPECT_EQ(c->effective_rewind_user(), "pgha_rewind");
  EXPECT_FALSE(from_text(std::string(kMinimal) + "keep_old_data_dirs = -1\n").ok());
}

}  // namespace
