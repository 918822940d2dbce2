// TLS with a CA made by openssl at run time: verification on, a wrong CA is refused.
#include <gtest/gtest.h>

#include "harness/etcd_cluster.hpp"
#include "harness/test_ca.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

test::EtcdClusterOptions tls(bool client_cert_auth) {
  test::EtcdClusterOptions o;
  o.tls = true;
  o.client_cert_auth = client_cert_auth;
  return o;
}

TEST(Tls, TrustedCaWorksAndWrongCaIsRefused) {
  test::EtcdCluster etcd(tls(false));
  ASSERT_EQ(etcd.endpoint(0).rfind("https://", 0), 0u);
  auto good = make_client(etcd.endpoints(), [&](Options& o) { o.tls.ca_file = etcd.ca()->ca_cert; });
  ASSERT_OK(good->put("/k", "v"));
  auto got = good->get("/k");
  ASSERT_OK(got);
  EXPECT_EQ((*got)->value, "v");
  auto w = good->watch(WatchRequest::prefix("/k"));
  ASSERT_OK(good->run_until([&] { return w->connected(); }, 5000));

  test::TestCa other = test::TestCa::create(etcd.dir(), "other");
  auto bad = make_client(etcd.endpoints(), [&](Options& o) { o.tls.ca_file = other.ca_cert; });
  auto r = bad->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable) << r.error().message;
  EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(etcd.endpoint(0)), std::string::npos) << r.error().message;
}

TEST(Tls, ClientCertificateRequiredByEtcd) {
  test::EtcdCluster etcd(tls(true));
  const test::TestCa& ca = *etcd.ca();
  auto with_cert = make_client(etcd.endpoints(), [&](Options& o) {
    o.tls.ca_file = ca.ca_cert;
    o.tls.cert_file = ca.client_cert;
    o.tls.key_file = ca.client_key;
  });
  ASSERT_OK(with_cert->put("/k", "v"));
  auto without = make_client(etcd.endpoints(), [&](Options& o) { o.tls.ca_file = ca.ca_cert; });
  auto r = without->get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable) << r.error().message;
}

}  // namespace
}  // namespace pg_ha::etcd
