// Whom the sidecar names in primary_conninfo when it starts a standby, before the node's worker
// runs (initial_upstream): the leader once the worker has run here, nobody for a fresh clone, so
// a second node under a synchronous standby's name cannot acknowledge commits as that standby
// before its worker finds the name held by another identity (tests/sim/FINDINGS.md F16).
#include <gtest/gtest.h>

#include <stdlib.h>

#include <fstream>
#include <string>

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

}  // namespace
}  // namespace pg_ha::sidecar
