// The sidecar's pg_hba.conf: its own rules first, the cluster's section next, client_networks
// last; client_networks takes CIDRs only (ctest label: unit).
#include <gtest/gtest.h>

#include "core/hba.hpp"
#include "hba.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

namespace {

TEST(SidecarHba, ClientNetworksParse) {
  auto nets = parse_client_networks("10.0.0.0/8, 192.168.1.0/24,,fd00::/8");
  ASSERT_TRUE(nets.ok()) << nets.error().message;
  EXPECT_EQ(*nets, (std::vector<std::string>{"10.0.0.0/8", "192.168.1.0/24", "fd00::/8"}));
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "example.com/8", "10.0.0.0/8 trust", "all"}) {
    auto r = parse_client_networks(std::string("127.0.0.1/32,") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
  SidecarConfig defaults;
  EXPECT_EQ(*parse_client_networks(defaults.client_networks), (std::vector<std::string>{"127.0.0.1/32", "::1/128"}));
}

TEST(SidecarHba, SidecarRulesFirstThenClusterThenClientNetworks) {
  SidecarConfig c;
  c.replication_networks = "10.9.0.0/16";
  c.client_networks = "10.0.0.0/8";
  std::string hba = render_hba(c, {"host all all 0.0.0.0/0 reject"});
  size_t local = hba.find("local all all peer map=pg_ha\n");
  size_t repl = hba.find("host replication " + c.replication_user + " 10.9.0.0/16 scram-sha-256\n");
  size_t cluster = hba.find(std::string(core::kHbaBeginMarker) + "\nhost all all 0.0.0.0/0 reject\n" + core::kHbaEndMarker + "\n");
  size_t clients = hba.find("host all all 10.0.0.0/8 scram-sha-256\n");
  ASSERT_NE(local, std::string::npos) << hba;
  ASSERT_NE(repl, std::string::npos) << hba;
  ASSERT_NE(cluster, std::string::npos) << hba;
  ASSERT_NE(clients, std::string::npos) << hba;
  EXPECT_LT(local, repl);
  EXPECT_LT(repl, cluster);
  EXPECT_LT(cluster, clients);
  EXPECT_EQ(hba.find("127.0.0.1/32"), std::string::npos) << "client_networks replaces the loopback default";
  EXPECT_EQ(core::cluster_hba_rules(hba), std::vector<std::string>{"host all all 0.0.0.0/0 reject"});
}

TEST(SidecarHba, DefaultAdmitsLoopbackClientsOnly) {
  std::string hba = render_hba(SidecarConfig{}, {});
  EXPECT_NE(hba.find("host all all 127.0.0.1/32 scram-sha-256\n"), std::string::npos) << hba;
  EXPECT_NE(hba.find("host all all ::1/128 scram-sha-256\n"), std::string::npos) << hba;
}

}  // namespace
