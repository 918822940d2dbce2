// The crashed primary's lease revoke (ClusterView::revoke_own_lease): a revoke that got no answer
// may still land later, so it is retried until etcd answers, and the supervisor holds postgres
// back meanwhile (revoke_unanswered; FINDINGS F11).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cluster_view.hpp"
#include "process.hpp"
#include "scripted_store.hpp"

namespace pg_ha::sidecar {
namespace {

TEST(SidecarLeaseRevoke, AnsweredRevokeLeavesNothingPending) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  put_member(store, view, "n1", 7);
  auto n = view.revoke_own_lease();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(view.revoke_unanswered());
}

TEST(SidecarLeaseRevoke, TimedOutRevokeIsRetriedUntilAnswered) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  put_member(store, view, "n1", 7);
  store.revoke_answers.push_back(make_error(ErrorKind::Timeout, "deadline passed"));
  EXPECT_FALSE(view.revoke_own_lease().ok());
  EXPECT_TRUE(view.revoke_unanswered()) << "a revoke without an answer may still land: postgres must wait";

  // The late revoke may already have landed (the member key is gone) or etcd may be unreachable:
  // the same lease is revoked again by id all the same.
  store.keys.clear();
  store.reads_fail = true;
  store.revoke_answers.push_back(make_error(ErrorKind::Unavailable, "no endpoint"));
  EXPECT_FALSE(view.revoke_own_lease().ok());
  EXPECT_TRUE(view.revoke_unanswered());

  store.reads_fail = false;
  store.revoke_answers.push_back(make_error(ErrorKind::NotFound, "lease not found"));
  auto n = view.revoke_own_lease();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 0);
  EXPECT_FALSE(view.revoke_unanswered()) << "an answer, even 'not found', means the lease is dead";
  EXPECT_EQ(store.revoked, (std::vector<int64_t>{7, 7, 7}));
}

// The record of unanswered revokes in the state folder (FINDINGS F21): a sidecar restarted while
// its revoke was in flight knows it, so its supervisor revokes again before postgres starts.
class RevokeRecord : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/pg_ha_revokes_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/" + kUnansweredRevokes;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  bool recorded() const { return std::filesystem::exists(path_); }
  std::string record() const {
    auto text = read_whole_file(path_);
    return text ? *text : "";
  }

  std::string dir_, path_;
};

TEST_F(RevokeRecord, IsWrittenBeforeTheRevokeLeavesAndRemovedOnceAnswered) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  view.keep_revokes_in(path_);
  EXPECT_FALSE(view.revoke_unanswered()) << "no record: nothing in flight";
  put_member(store, view, "n1", 7);
  std::string seen;
  store.before_revoke = [&](int64_t) { seen = record(); };
  ASSERT_TRUE(view.revoke_own_lease().ok());
  EXPECT_EQ(seen, "7\n") << "the revoke is on record before it is sent";
  EXPECT_FALSE(recorded()) << "answered: nothing may land late";
}

TEST_F(RevokeRecord, UnansweredRevokeOutlivesTheSidecar) {
  ScriptedStore store;
  {
    ClusterView first(store, config_for("n1"));
    first.keep_revokes_in(path_);
    put_member(store, first, "n1", 7);
    store.revoke_answers.push_back(make_error(ErrorKind::Timeout, "deadline passed"));
    EXPECT_FALSE(first.revoke_own_lease().ok());
  }   // the sidecar crashes with the revoke in flight
  EXPECT_EQ(record(), "7\n");

  // The next sidecar: the late revoke may have landed already (no key shows lease 7 any more).
  store.keys.clear();
  ClusterView next(store, config_for("n1"));
  next.keep_revokes_in(path_);
  EXPECT_TRUE(next.revoke_unanswered()) << "the previous sidecar's revoke may still land: postgres must wait";
  store.revoke_answers.push_back(make_error(ErrorKind::NotFound, "lease not found"));
  auto n = next.revoke_own_lease();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_FALSE(next.revoke_unanswered());
  EXPECT_FALSE(recorded());
  EXPECT_EQ(store.revoked, (std::vector<int64_t>{7, 7}));
}

TEST_F(RevokeRecord, ARevokeThatCannotBeRecordedIsNotSent) {
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  view.keep_revokes_in(dir_ + "/missing/" + kUnansweredRevokes);
  put_member(store, view, "n1", 7);
  auto n = view.revoke_own_lease();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("not revoking"), std::string::npos) << n.error().message;
  EXPECT_TRUE(store.revoked.empty()) << "a revoke a restarted sidecar could not know of must not leave";
  EXPECT_FALSE(view.revoke_unanswered()) << "nothing in flight: postgres may start under the lease";
}

TEST_F(RevokeRecord, ForgettingAStaleRecordRemovesItAndRevokesNothing) {
  { std::ofstream(path_) << "7\n"; }
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  view.keep_revokes_in(path_);
  ASSERT_TRUE(view.revoke_unanswered());
  ASSERT_TRUE(view.forget_revokes().ok());
  EXPECT_FALSE(view.revoke_unanswered());
  EXPECT_FALSE(recorded());
  EXPECT_TRUE(store.revoked.empty());
}

TEST_F(RevokeRecord, AnUnreadableRecordRevokesTheNodesOwnLeases) {
  { std::ofstream(path_) << "not a lease id\n"; }
  ScriptedStore store;
  ClusterView view(store, config_for("n1"));
  view.keep_revokes_in(path_);
  EXPECT_TRUE(view.revoke_unanswered());
  put_member(store, view, "n1", 9);
  store.reads_fail = true;
  EXPECT_FALSE(view.revoke_own_lease().ok());
  EXPECT_TRUE(view.revoke_unanswered()) << "the own leases are not known yet";
  store.reads_fail = false;
  auto n = view.revoke_own_lease();
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(view.revoke_unanswered());
  EXPECT_FALSE(recorded());
}

}  // namespace
}  // namespace pg_ha::sidecar
