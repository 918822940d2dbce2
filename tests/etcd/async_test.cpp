// The non-blocking engine driven the way the worker's latch loop drives it: poll(2) on sockets()
// with timeout_ms(), then on_socket_ready() and perform().
#include <gtest/gtest.h>
#include <poll.h>

#include "harness/etcd_cluster.hpp"
#include "harness/ports.hpp"
#include "test_util.hpp"

namespace pg_ha::etcd {
namespace {

using testing::make_client;

// One latch-loop iteration, with a cap so the test notices a loop that would sleep for ever.
void loop_once(Client& c, int cap_ms = 1000) {
  c.perform();
  if (c.pending() == 0 && c.sockets().empty()) return;  // perform() finished everything
  std::vector<pollfd> fds;
  for (const auto& s : c.sockets()) fds.push_back({s.fd, short((s.read ? POLLIN : 0) | (s.write ? POLLOUT : 0)), 0});
  int64_t wait = c.timeout_ms();
  if (wait < 0 || wait > cap_ms) wait = cap_ms;
  ::poll(fds.data(), fds.size(), int(wait));
  for (const auto& p : fds) {
    if (p.revents) c.on_socket_ready(p.fd, p.revents & (POLLIN | POLLHUP | POLLERR), p.revents & (POLLOUT | POLLERR));
  }
}

TEST(Async, ConcurrentRequestsCompleteOnceEach) {
  test::EtcdCluster etcd;
  auto c = make_client(etcd.endpoints());
  int done = 0;
  std::vector<std::string> order;
  c->submit_put(PutRequest{"/a", "1", 0, false, false}, [&](Result<PutResult> r) {
    EXPECT_TRUE(r.ok());
    ++done;
  });
  c->submit_lease_grant(10, [&](Result<LeaseGrant> r) {
    EXPECT_TRUE(r.ok());
    ++done;
  });
  kv::Txn txn;
  txn.compare.push_back(kv::Compare::absent("/b"));
  txn.success.push_back(kv::RequestOp::put("/b", "2"));
  c->submit_txn(txn, [&](Result<kv::TxnResult> r) {
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->succeeded);
    ++done;
  });
  auto cancelled = c->submit_range(RangeRequest::prefix("/"), [&](Result<RangeResult>) { ADD_FAILURE() << "cancelled call completed"; });
  EXPECT_EQ(done, 0);  // never called back from inside submit
  c->cancel(cancelled);
  EXPECT_EQ(c->pending(), 3u);
  for (int i = 0; i < 200 && c->pending() > 0; ++i) loop_once(*c);
  EXPECT_EQ(done, 3);
}

TEST(Async, CallbacksMaySubmitAndWatchDeliversThroughTheLoop) {
  test::EtcdCluster etcd;
  auto c = make_client(etcd.endpoints());
  std::vector<WatchEvent> seen;
  std::optional<Error> watch_error;
  auto w = c->watch(WatchRequest::prefix("/q/"), [&](std::vector<WatchEvent> batch) {
    seen.insert(seen.end(), batch.begin(), batch.end());
  }, [&](const Error& e) { watch_error = e; });
  for (int i = 0; i < 200 && !w->connected(); ++i) loop_once(*c);
  ASSERT_TRUE(w->connected());

  // A chain: each completion submits the next put, from inside its callback.
  int remaining = 5;
  std::function<void(Result<PutResult>)> next = [&](Result<PutResult> r) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (--remaining > 0) c->submit_put(PutRequest{"/q/" + std::to_string(remaining), "v", 0, false, false}, next);
  };
  c->submit_put(PutRequest{"/q/5", "v", 0, false, false}, next);
  for (int i = 0; i < 400 && (remaining > 0 || seen.size() < 5); ++i) loop_once(*c);
  EXPECT_EQ(remaining, 0);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].kv.key, "/q/5");
  EXPECT_EQ(seen[4].kv.key, "/q/1");
  EXPECT_FALSE(watch_error.has_value());
}

TEST(Async, EveryRequestHasADeadlineTheLoopCanSee) {
  test::BlackHole hole;
  auto c = make_client({"http://127.0.0.1:" + std::to_string(hole.port())}, [](Options& o) { o.request_timeout_ms = 400; });
  std::optional<Error> failed;
  auto start = std::chrono::steady_clock::now();
  c->submit_range(RangeRequest::single("/k"), [&](Result<RangeResult> r) {
    ASSERT_FALSE(r.ok());
    failed = r.error();
  });
  while (!failed && testing::elapsed_ms(start) < 3000) {
    int64_t t = c->timeout_ms();
    ASSERT_GE(t, 0) << "a pending request must always have a wake-up time";
    ASSERT_LE(t, 400);
    loop_once(*c, 5000);
  }
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->kind, ErrorKind::Timeout);
  EXPECT_LT(testing::elapsed_ms(start), 700);
}

TEST(Async, AWatchMayBeDestroyedFromItsOwnCallbackAndAClientWithWorkInFlight) {
  test::EtcdCluster etcd;
  auto c = make_client(etcd.endpoints());
  std::unique_ptr<Watch> w;
  int batches = 0;
  w = c->watch(WatchRequest::prefix("/d/"), [&](std::vector<WatchEvent>) {
    ++batches;
    w.reset();  // the watch ends itself from inside its callback
  });
  for (int i = 0; i < 200 && !w->connected(); ++i) loop_once(*c);
  c->submit_put(PutRequest{"/d/1", "v", 0, false, false}, [](Result<PutResult>) {});
  for (int i = 0; i < 200 && w; ++i) loop_once(*c);
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(batches, 1);

  // Destroying a client with requests and a stream in flight calls nothing back and leaks nothing.
  auto w2 = c->watch(WatchRequest::prefix("/e/"), [](std::vector<WatchEvent>) { ADD_FAILURE(); });
  c->submit_range(RangeRequest::prefix("/"), [](Result<RangeResult>) { ADD_FAILURE(); });
  loop_once(*c, 10);
  w2.reset();
  c.reset();
}

}  // namespace
}  // namespace pg_ha::etcd
