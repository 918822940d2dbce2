// The crashed primary's lease revoke (ClusterView::revoke_own_lease): a revoke that got no answer
// may still land later, so it is retried until etcd answers, and the supervisor holds postgres
// back meanwhile (revoke_unanswered; FINDINGS F11).
#include <gtest/gtest.h>

#include "cluster_view.hpp"
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

}  // namespace
}  // namespace pg_ha::sidecar
