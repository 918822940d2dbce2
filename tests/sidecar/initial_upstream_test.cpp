// Whom the sidecar names in primary_conninfo when it starts a standby, before the node's worker
// runs (initial_upstream): the leader once the worker has run here, nobody for a fresh clone, so
// a second node under a synchronous standby's name cannot acknowledge commits as that standby
// before its worker finds the name held by another identity; and the name it streams under, which
// carries its identity (tests/sim/FINDINGS.md F16).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <string>

#include "pg_ops.hpp"
#include "requests.hpp"
#include "scripted_store.hpp"

namespace pg_ha::sidecar {
namespace {

struct FreshNode {
  std::string dir;
  Node node;
  FreshNode() {
    char tmpl[] = "/tmp/pg_ha_upstream_test.XXXXXX";
    dir = mkdtemp(tmpl);
    node.config = config_for("n2");
    node.config.state_dir = dir;
    node.config.data_dir = dir;
    std::ofstream(node.data_file("standby.signal"));
  }
  ~FreshNode() {
    std::remove(node.data_file("standby.signal").c_str());
    std::remove(node.auto_conf_path().c_str());
    std::remove(node.state_file(core::kIdentityFile).c_str());
    rmdir(dir.c_str());
  }
};

void put_leader(ScriptedStore& s, const ClusterView& v, const std::string& name) {
  put_member(s, v, name, 7);
  core::MemberRecord m = *core::decode_member(s.keys[v.keys().member(name)].value);
  m.host = "10.0.0.1";
  m.port = 5432;
  s.keys[v.keys().member(name)].value = core::encode(m);
  kv::KeyValue leader;
  leader.key = v.keys().leader();
  leader.value = core::encode(core::LeaderRecord{name, 1});
  leader.lease = 7;
  s.keys[leader.key] = leader;
}

TEST(SidecarInitialUpstream, AFreshCloneNamesNoUpstreamUntilItsWorkerHasRun) {
  FreshNode fresh;
  ScriptedStore store;
  ClusterView view(store, fresh.node.config);
  put_leader(store, view, "n1");
  EXPECT_FALSE(initial_upstream(fresh.node, view).has_value()) << "no pg_ha.auto.conf yet: the worker decides";
  std::ofstream(fresh.node.auto_conf_path()) << "primary_conninfo = ''\n";
  auto up = initial_upstream(fresh.node, view);
  ASSERT_TRUE(up.has_value()) << "a restart of a node whose worker ran names the leader";
  EXPECT_EQ(up->name, "n1");
}

TEST(SidecarStreamingName, AStandbyStreamsUnderItsNameAndIdentity) {
  FreshNode fresh;
  Upstream leader{"n1", "10.0.0.1", 5432};
  EXPECT_NE(upstream_conninfo(fresh.node, leader, "").find("application_name='n2' "), std::string::npos)
      << "no identity yet: the name alone";
  std::ofstream(fresh.node.state_file(core::kIdentityFile)) << core::encode(core::NodeIdentity{"3f9a1c07d2e4b5a6c7d8e9f0a1b2c3d4", "7"});
  std::string conninfo = upstream_conninfo(fresh.node, leader, "");
  EXPECT_NE(conninfo.find("application_name='n2@3f9a1c07' "), std::string::npos) << conninfo;
}

}  // namespace
}  // namespace pg_ha::sidecar
