// Client access rules from the cluster config (issue 16, docs/operations.md "Client access:
// pg_hba"): a rule added with pg_ha.set_config reaches every node's pg_hba.conf and takes effect
// by a reload (same postmaster), survives a sidecar restart; a malformed rule is refused and
// changes nothing; a pgha_admin member who is not a superuser may not change the rules.
#include <string>
#include <vector>

#include "fixture.hpp"

namespace pg_ha::test {
namespace {

std::string error_of(const Result<Rows>& r) { return r.ok() ? std::string("(no error)") : r.error().message; }

class Hba : public Cluster {
 protected:
  // A login over TCP as `hba_nopass`, a role without a password: the default rules (scram-sha-256
  // for loopback clients) refuse it; the cluster rule below trusts it from 127.0.0.1.
  Result<Rows> login(int i) const {
    return pq_query("host=127.0.0.1 port=" + std::to_string(c_->port(i)) +
                        " user=hba_nopass dbname=postgres connect_timeout=2 password=unused",
                    "SELECT current_user");
  }
  bool logs_in(int i) const {
    auto r = login(i);
    return r.ok() && !r->empty() && (*r)[0][0] == "hba_nopass";
  }
};

const char* kRule = R"({"postgresql": {"pg_hba": ["host postgres hba_nopass 127.0.0.1/32 trust"]}})";

TEST_F(Hba, ClusterRuleReachesEveryNodeByReloadAndOnlySuperusersChangeIt) {
  start();
  control(primary_, "CREATE ROLE hba_nopass LOGIN; CREATE ROLE hba_admin NOLOGIN IN ROLE pgha_admin");
  std::vector<int> pids;
  for (int i = 0; i < c_->size(); ++i) {
    ASSERT_TRUE(c_->wait_until([&] { return value(i, "SELECT 1 FROM pg_roles WHERE rolname = 'hba_nopass'") == "1"; }, 20000))
        << logs();
    auto refused = login(i);
    EXPECT_FALSE(refused.ok()) << c_->name(i) << " let hba_nopass in before any rule";
    pids.push_back(c_->postmaster_pid(i).value_or(-1));
  }
  std::string config_before = c_->etcd_value("config");

  // A pgha_admin member who is not a superuser: refused, nothing written.
  auto admin = c_->query(primary_, std::string("SET ROLE hba_admin; SELECT pg_ha.set_config('") + kRule + "')");
  EXPECT_NE(error_of(admin).find("permission denied to change postgresql.pg_hba"), std::string::npos) << error_of(admin);
  // It may still change what it was allowed to before.
  control(primary_, R"(SET ROLE hba_admin; SELECT pg_ha.set_config('{"history_limit": 99}'))");
  config_before = c_->etcd_value("config");

  // A malformed rule: refused with the line named, nothing written.
  auto bad = c_->query(primary_, R"(SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host postgres hba_nopass 127.0.0.1/33 trust"]}}'))");
  EXPECT_NE(error_of(bad).find("127.0.0.1/33"), std::string::npos) << error_of(bad);
  auto include = c_->query(primary_, R"(SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["include /etc/passwd"]}}'))");
  EXPECT_NE(error_of(include).find("include"), std::string::npos) << error_of(include);
  EXPECT_EQ(c_->etcd_value("config"), config_before);
  for (int i = 0; i < c_->size(); ++i) EXPECT_FALSE(login(i).ok()) << c_->name(i);

  // A superuser adds the rule: every node lets the role in, by a reload.
  int64_t t0 = monotonic_ms();
  control(primary_, std::string("SELECT pg_ha.set_config('") + kRule + "')");
  for (int i = 0; i < c_->size(); ++i) {
    ASSERT_TRUE(c_->wait_until([&] { return logs_in(i); }, 20000))
        << c_->name(i) << ": " << error_of(login(i)) << "\n" << logs();
    EXPECT_EQ(c_->postmaster_pid(i).value_or(-2), pids[i]) << c_->name(i) << " restarted postgres";
  }
  std::printf("[ measured ] pg_hba rule applied on every node %lld ms after set_config\n",
              static_cast<long long>(monotonic_ms() - t0));

  // A sidecar restart keeps the rule (it renders the section from etcd).
  int replica = primary_ == 0 ? 1 : 0;
  c_->stop_node(replica);
  c_->start_node(replica);
  ASSERT_TRUE(c_->wait_healthy(2, kFailoverMs)) << logs();
  EXPECT_TRUE(c_->wait_until([&] { return logs_in(replica); }, 20000)) << error_of(login(replica)) << "\n" << logs();

  // Removing the rules (a superuser) closes the door again on every node.
  control(primary_, R"(SELECT pg_ha.set_config('{"postgresql": {"pg_hba": null}}'))");
  for (int i = 0; i < c_->size(); ++i)
    EXPECT_TRUE(c_->wait_until([&] { return !login(i).ok(); }, 20000)) << c_->name(i) << " still lets hba_nopass in";
}

}  // namespace
}  // namespace pg_ha::test
