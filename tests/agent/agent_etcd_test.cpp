// The agent against a real etcd: bootstrap, failover on lease loss, fencing while etcd is gone
// and unfencing without a new term when it returns, lease adoption by a restarted worker.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/agent.hpp"
#include "agent/etcd_client_port.hpp"
#include "agent/term_memory.hpp"
#include "core/schema.hpp"
#include "core/sidecar_channel.hpp"
#include "fake_postgres.hpp"
#include "harness/etcd_cluster.hpp"
#include "harness/temp_dir.hpp"

namespace pg_ha::test {
namespace {

constexpr const char* kConfig =
    R"({"version":1,"ttl":3,"loop_wait_ms":300,"fence_after_ms":800,"fence_margin_ms":300,"election_wait_ms":300})";

struct Node {
  Node(EtcdCluster& etcd, const std::string& name, bool primary, const std::string& state_dir)
      : pg(primary, 42) {
    etcd::Options o;
    o.endpoints = etcd.endpoints();
    o.request_timeout_ms = 500;
    o.connect_timeout_ms = 200;
    client = std::move(*etcd::Client::create(o));
    port = std::make_unique<agent::EtcdClientPort>(*client);
    agent::AgentSettings s;
    s.node.name = name;
    s.node.host = "127.0.0.1";
    s.node.port = 5432;
    s.cluster = "agenttest";
    s.state_dir = state_dir;
    a = std::make_unique<agent::Agent>(s, *port, pg);
  }
  FakePostgres pg;
  std::unique_ptr<etcd::Client> client;
  std::unique_ptr<agent::EtcdClientPort> port;
  std::unique_ptr<agent::Agent> a;
};

class AgentEtcd : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = std::make_unique<EtcdCluster>();
    etcd::Options o;
    o.endpoints = etcd_->endpoints();
    admin_ = std::move(*etcd::Client::create(o));
    ASSERT_TRUE(admin_->put(keys_.config(), kConfig).ok());
    ASSERT_TRUE(admin_->put(keys_.initialize(), core::encode(core::InitializeRecord{"n1", "42"})).ok());
  }
  std::unique_ptr<Node> node(const std::string& name, bool primary) {
    return std::make_unique<Node>(*etcd_, name, primary, dir_.path());
  }
  // Iterates the given nodes until cond() holds or timeout_ms passes.
  bool run_until(std::initializer_list<Node*> nodes, const std::function<bool()>& cond, int timeout_ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      for (Node* n : nodes) n->a->iterate();
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::optional<core::LeaderRecord> leader() {
    auto kv = admin_->get(keys_.leader());
    if (!kv.ok() || !*kv) return std::nullopt;
    auto l = core::decode_leader((*kv)->value);
    return l.ok() ? std::optional<core::LeaderRecord>(*l) : std::nullopt;
  }

  core::Keys keys_{"/pg_ha", "agenttest"};
  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<etcd::Client> admin_;
};

TEST_F(AgentEtcd, BootstrapTakesTermOneAndUnfences) {
  auto n1 = node("n1", true);
  ASSERT_TRUE(run_until({n1.get()}, [&] { return n1->pg.can_commit(); }, 10000)) << n1->pg.gate_reason;
  auto l = leader();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "n1");
  EXPECT_EQ(l->term, 1);
  EXPECT_NE(n1->pg.snapshot.find("\"leader\":\"n1\""), std::string::npos);
}

TEST_F(AgentEtcd, ReplicaFollowsThenWinsWhenTheLeaseIsReleased) {
  auto n1 = node("n1", true);
  auto n2 = node("n2", false);
  n2->pg.local.receiver_streaming = true;
  ASSERT_TRUE(run_until({n1.get(), n2.get()}, [&] { return n1->pg.can_commit() && n2->pg.reloads > 0; }, 10000));
  n1->a->release_leadership("test: the primary dies");
  n1->pg.local.postgres_running = false;
  ASSERT_TRUE(run_until({n2.get()}, [&] { return n2->pg.can_commit(); }, 15000)) << n2->pg.gate_reason;
  EXPECT_EQ(n2->pg.promotions, 1);
  auto l = leader();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "n2");
  EXPECT_EQ(l->term, 2);
  auto h = admin_->get(keys_.history(2));
  ASSERT_TRUE(h.ok() && *h);
  EXPECT_NE((*h)->value.find("failover"), std::string::npos);
}

TEST_F(AgentEtcd, EtcdOutageFencesInTimeAndReturnUnfencesOnTheSameTerm) {
  auto n1 = node("n1", true);
  ASSERT_TRUE(run_until({n1.get()}, [&] { return n1->pg.can_commit(); }, 10000));
  etcd_->kill9(0);
  auto lost = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until({n1.get()}, [&] { return !n1->pg.can_commit(); }, 10000));
  auto fenced_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - lost).count();
  // The gate closes by itself, at most fence_after (800 ms) after the last good keep-alive: well
  // before etcd's 3 s ttl. (Measured, with a generous bound: not a speed assertion.)
  EXPECT_LT(fenced_after_ms, 3000);
  EXPECT_GE(n1->pg.terminations, 1);
  etcd_->start(0);
  etcd_->wait_healthy();
  ASSERT_TRUE(run_until({n1.get()}, [&] { return n1->pg.can_commit(); }, 20000)) << n1->pg.gate_reason;
  EXPECT_EQ(n1->pg.promotions, 0);
  auto l = leader();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "n1");
  EXPECT_EQ(l->term, 1);
  std::printf("[ measured ] etcd loss -> fenced in %lld ms\n", static_cast<long long>(fenced_after_ms));
}

// A worker that starts while etcd is down has no view of the cluster. Before its first answer it
// decided on an empty view: a running primary showed "bootstrapping", and a replica's
// primary_conninfo was blanked (a reload), so it stopped streaming until etcd came back.
TEST_F(AgentEtcd, NoDecisionBeforeEtcdFirstAnswers) {
  etcd_->kill9(0);
  auto primary = node("n1", true);
  auto replica = node("n2", false);
  replica->pg.local.receiver_streaming = true;
  for (int i = 0; i < 3; ++i) {
    primary->a->iterate();
    replica->a->iterate();
  }
  EXPECT_EQ(replica->pg.reloads, 0) << "the replica's configuration was rewritten without a view";
  EXPECT_EQ(primary->pg.reloads, 0);
  EXPECT_FALSE(primary->pg.can_commit());
  for (Node* n : {primary.get(), replica.get()}) {
    auto doc = nlohmann::json::parse(n->pg.snapshot);
    std::string state = doc["node"]["state"], reason = doc["node"]["reason"];
    EXPECT_NE(state, "bootstrapping") << reason;
    EXPECT_NE(reason.find("etcd"), std::string::npos) << reason;
    EXPECT_FALSE(doc["node"]["etcd_reachable"].get<bool>());
  }
  etcd_->start(0);
  etcd_->wait_healthy();
  ASSERT_TRUE(run_until({primary.get()}, [&] { return primary->pg.can_commit(); }, 20000)) << primary->pg.gate_reason;
  auto l = leader();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "n1");
}

TEST_F(AgentEtcd, RestartedWorkerAdoptsItsLeaseAndKeepsLeading) {
  auto n1 = node("n1", true);
  ASSERT_TRUE(run_until({n1.get()}, [&] { return n1->pg.can_commit(); }, 10000));
  n1.reset();  // the worker dies without releasing anything (postmaster crash, restart in place)
  auto again = node("n1", true);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until({again.get()}, [&] { return again->pg.can_commit(); }, 10000)) << again->pg.gate_reason;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 2500) << "should not wait for the old lease to expire (ttl 3 s)";
  auto l = leader();
  ASSERT_TRUE(l);
  EXPECT_EQ(l->term, 1);
}

}  // namespace
// A standby promoted by hand (pg_promote()) is demoted by its sidecar; promoted by hand again in
// the same term, it needs a second demotion toward the same primary. Each postmaster asks under
// its own id: under the core's id alone, the sidecar took the second request for the finished
// first one, and the node stayed a fenced primary.
TEST_F(AgentEtcd, EachPostmasterPromotedByHandAsksForItsOwnDemotion) {
  auto n1 = node("n1", true);
  auto n2 = node("n2", false);
  n2->pg.local.receiver_streaming = true;
  ASSERT_TRUE(run_until({n1.get(), n2.get()}, [&] { return n1->pg.can_commit() && n2->pg.reloads > 0; }, 10000));
  std::string request_file = dir_.path() + "/" + core::kSidecarRequestFile;
  auto demote_id = [&]() -> std::string {
    std::ifstream in(request_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = core::decode_sidecar_request(text);
    return r.ok() && r->kind == core::SidecarRequest::Kind::Demote ? r->id : "";
  };
  std::vector<std::string> ids;
  for (int64_t incarnation : {7, 8}) {
    n2->pg.incarnation = incarnation;
    n2->pg.local.in_recovery = false;   // promoted by hand
    n2->pg.local.timeline = 2;
    ASSERT_TRUE(run_until({n1.get(), n2.get()}, [&] { return !demote_id().empty() && (ids.empty() || demote_id() != ids.back()); }, 10000))
        << "no new demote request from postmaster " << incarnation;
    ids.push_back(demote_id());
    EXPECT_TRUE(n2->pg.gate_fenced);
    // The sidecar carries it out: a standby again, in a new postmaster.
    core::SidecarResult done;
    done.id = ids.back();
    done.ok = true;
    write_file(dir_.path() + "/" + core::kSidecarResultFile, core::encode_sidecar_result(done));
    n2->pg.local.in_recovery = true;
    n2->pg.local.timeline = 1;
    n2->pg.incarnation = incarnation + 100;
    run_until({n1.get(), n2.get()}, [] { return false; }, 500);   // it sees itself a standby again
  }
  EXPECT_EQ(ids[0], "demote-1-n1@7");
  EXPECT_EQ(ids[1], "demote-1-n1@8");
}

// etcd restored from an old snapshot: its `state` names an earlier term and primary. A node that
// has seen a later term decides nothing on it (before: the running primary asked to be demoted
// toward the snapshot's primary). Once etcd holds no `initialize` key (its keys lost, the cluster
// to be initialized again), the node forgets the term and follows the new cluster's state.
TEST_F(AgentEtcd, StateOlderThanATermSeenIsNotFollowed) {
  auto n1 = node("n1", true);
  auto n2 = node("n2", false);
  n2->pg.local.receiver_streaming = true;
  ASSERT_TRUE(run_until({n1.get(), n2.get()}, [&] { return n1->pg.can_commit() && n2->pg.reloads > 0; }, 10000));
  auto term1 = admin_->get(keys_.state());
  ASSERT_TRUE(term1.ok() && term1->has_value());
  std::string old_state = (*term1)->value;
  auto n1_member = admin_->get(keys_.member("n1"));
  ASSERT_TRUE(n1_member.ok() && n1_member->has_value());
  std::string old_member = (*n1_member)->value;
  n1->a->release_leadership("test: the primary dies");
  n1->pg.local.postgres_running = false;
  ASSERT_TRUE(run_until({n2.get()}, [&] { return n2->pg.can_commit(); }, 15000)) << n2->pg.gate_reason;
  std::ifstream memory(dir_.path() + "/" + agent::kHighestTermFile);
  int64_t remembered = 0;
  memory >> remembered;
  EXPECT_EQ(remembered, 2);
  // The snapshot: term 1 again, n1 its primary (and n1's member record, with its address).
  ASSERT_TRUE(admin_->put(keys_.member("n1"), old_member).ok());
  ASSERT_TRUE(admin_->put(keys_.state(), old_state).ok());
  ASSERT_TRUE(run_until({n2.get()}, [&] { return n2->pg.gate_reason.find("older") != std::string::npos; }, 5000))
      << n2->pg.gate_reason;
  EXPECT_TRUE(n2->pg.gate_fenced);
  run_until({n2.get()}, [] { return false; }, 1500);
  EXPECT_FALSE(std::ifstream(dir_.path() + "/" + core::kSidecarRequestFile).good()) << "n2 asked to be demoted";
  EXPECT_NE(n2->pg.snapshot.find("older than term 2"), std::string::npos) << n2->pg.snapshot;
  // The keys are lost; the cluster is initialized again (by n1's data, at term 1): followed.
  ASSERT_TRUE(admin_->delete_range(etcd::DeleteRequest::prefix(keys_.root())).ok());
  run_until({n2.get()}, [] { return false; }, 1000);
  EXPECT_FALSE(std::ifstream(dir_.path() + "/" + agent::kHighestTermFile).good()) << "the term was not forgotten";
  ASSERT_TRUE(admin_->put(keys_.config(), kConfig).ok());
  ASSERT_TRUE(admin_->put(keys_.initialize(), core::encode(core::InitializeRecord{"n1", "42"})).ok());
  ASSERT_TRUE(admin_->put(keys_.state(), old_state).ok());
  EXPECT_TRUE(run_until({n2.get()}, [&] { return n2->pg.gate_reason.find("older") == std::string::npos; }, 5000))
      << n2->pg.gate_reason;
  // A cluster built anew under the same name (initdb: another system identifier) starts at term 1
  // again: a term remembered from the old one does not hold it back.
  ASSERT_TRUE(agent::write_highest_term(dir_.path(), agent::TermSeen{9, "42"}).ok());
  ASSERT_TRUE(admin_->put(keys_.initialize(), core::encode(core::InitializeRecord{"n1", "43"})).ok());
  run_until({n2.get()}, [] { return false; }, 1000);
  EXPECT_EQ(n2->pg.gate_reason.find("older"), std::string::npos) << n2->pg.gate_reason;
  auto seen = agent::read_highest_term(dir_.path());
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->term, 1);
  EXPECT_EQ(seen->system_identifier, "43");
}

}  // namespace pg_ha::test
