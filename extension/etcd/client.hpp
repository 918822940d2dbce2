// etcd v3 client over the JSON gateway (etcd 3.4): one non-blocking engine, and a blocking form
// built on it. No threads, no signals, no global state beyond curl_global_init (see global_init()
// in transport.hpp: call it after fork). Not thread-safe: one Client per thread.
//
// ## Blocking use (sidecar, tests)
//     auto client = Client::create(options);            // Result<std::unique_ptr<Client>>
//     auto r = (*client)->range(RangeRequest::prefix("/pg_ha/c1/"));
//     if (!r) log(r.error().message);                   // errors are values
// Each blocking call drives the engine until its answer or its deadline (Options::request_timeout_ms)
// and checks Options::interrupt at least every 20 ms (ErrorKind::Interrupted).
//
// ## Non-blocking use (the PostgreSQL background worker's latch loop)
// submit_*() start a request and return at once; the callback runs later from on_socket_ready()
// or perform(), never from inside submit_*(). Every request completes exactly once (answer,
// error or deadline) unless cancel()ed, which suppresses its callback. A loop:
//
//     for (;;) {
//       client.perform();                               // due timers, deadlines, retries
//       if (client.sockets_version() != seen) {         // rebuild the wait set only on change
//         FreeWaitEventSet(set); set = CreateWaitEventSet(..., 1 + sockets.size());
//         AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
//         for (auto s : client.sockets())               // read/write interest per socket
//           AddWaitEventToSet(set, (s.read ? WL_SOCKET_READABLE : 0) |
//                                  (s.write ? WL_SOCKET_WRITEABLE : 0), s.fd, NULL, NULL);
//         seen = client.sockets_version();
//       }
//       long wait_ms = min(client.timeout_ms() (-1 = none), my own next wake-up);
//       n = WaitEventSetWait(set, wait_ms, events, max, PG_WAIT_EXTENSION);
//       for each event e: if (e.events & WL_LATCH_SET) ResetLatch(MyLatch) ... else
//         client.on_socket_ready(e.fd, e.events & WL_SOCKET_READABLE, e.events & WL_SOCKET_WRITEABLE);
//       handle own flags (SIGTERM: just return; destroying the Client aborts everything)
//     }
// (A simpler loop that recreates the set every iteration is also correct.) Calling perform()
// too often is harmless; not calling it when timeout_ms() has passed delays timeouts.
//
// ## Endpoints and retries
// A request goes to the endpoint that last worked. On a connection failure, a per-attempt
// timeout, or "no leader"/"not leader"-style answers it moves on to the next endpoint, cycling
// (with a short back-off) within its deadline. A request that may have reached etcd is only
// retried when repeating it is harmless: txn is never repeated after an ambiguous failure; the
// error then says "outcome unknown" so the caller re-reads before acting.
//
// ## Auth
// With Options::user set, the client authenticates (POST /v3/auth/authenticate) before its first
// request and sends the token in a raw "Authorization" header. When etcd rejects the token
// (gRPC code 16: expiry, or an etcd restart) it re-authenticates once and repeats the request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "etcd/options.hpp"
#include "etcd/timers.hpp"
#include "etcd/transport.hpp"
#include "etcd/types.hpp"
#include "etcd/watch.hpp"

namespace pg_ha::etcd {

class Client {
 public:
  using CallId = uint64_t;
  template <class T>
  using Callback = std::function<void(Result<T>)>;

  // Invalid options (no endpoint, a URL that is not http(s)://host:port) give Error{Invalid}.
  static Result<std::unique_ptr<Client>> create(Options options);
  ~Client();  // aborts every request and stream without calling callbacks; outlive your Watches
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- non-blocking ----
  CallId submit_range(RangeRequest req, Callback<RangeResult> done);
  CallId submit_put(PutRequest req, Callback<PutResult> done);
  CallId submit_delete(DeleteRequest req, Callback<DeleteResult> done);
  CallId submit_txn(kv::Txn txn, Callback<kv::TxnResult> done);
  CallId submit_lease_grant(int64_t ttl_s, Callback<LeaseGrant> done);
  CallId submit_lease_keepalive(int64_t lease_id, Callback<LeaseKeepAlive> done);
  CallId submit_lease_revoke(int64_t lease_id, Callback<Unit> done);
  CallId submit_lease_time_to_live(int64_t lease_id, Callback<LeaseTimeToLive> done);
  void cancel(CallId id);
  size_t pending() const { return calls_.size(); }

  // A watch stream; see watch.hpp. Without callbacks, events are buffered for Watch::poll().
  std::unique_ptr<Watch> watch(WatchRequest req, Watch::EventsCallback on_events = {},
                               Watch::ErrorCallback on_error = {});

  // ---- the engine, for an event loop ----
  std::vector<SocketInterest> sockets() const { return transport_.sockets(); }
  uint64_t sockets_version() const { return transport_.sockets_version(); }
  int64_t timeout_ms() const;  // until perform() has work; -1 = nothing scheduled
  void on_socket_ready(int fd, bool readable, bool writable);
  void perform();

  // ---- blocking ----
  Result<RangeResult> range(const RangeRequest& req);
  Result<std::optional<kv::KeyValue>> get(const std::string& key);
  Result<PutResult> put(const PutRequest& req);
  Result<PutResult> put(const std::string& key, const std::string& value, int64_t lease_id = 0);
  Result<DeleteResult> delete_range(const DeleteRequest& req);
  Result<kv::TxnResult> txn(const kv::Txn& txn);  // succeeded=false is a normal result
  Result<LeaseGrant> lease_grant(int64_t ttl_s);
  Result<LeaseKeepAlive> lease_keepalive(int64_t lease_id);  // expired: ErrorKind::NotFound
  Status lease_revoke(int64_t lease_id);
  Result<LeaseTimeToLive> lease_time_to_live(int64_t lease_id);  // expired: ErrorKind::NotFound

  // Drives the engine until done() holds. Error Interrupted when Options::interrupt fires (checked
  // at least every 20 ms), Timeout after timeout_ms (-1 = no limit of its own).
  Status run_until(const std::function<bool()>& done, int64_t timeout_ms = -1);

  const Options& options() const { return options_; }
  const std::string& preferred_endpoint() const { return options_.endpoints[preferred_]; }

 private:
  friend class Watch;
  struct Call;
  // The 200 body, or the error; endpoint = who answered (for messages about the body).
  using BodyCallback = std::function<void(Result<std::string>, const std::string& endpoint)>;

  explicit Client(Options options);
  CallId submit(const char* path, std::string body, bool idempotent, BodyCallback done);
  template <class T>
  Result<T> wait_for(const std::function<CallId(Callback<T>)>& submit_fn);
  void attempt(CallId id);
  void send(Call& call);
  void on_response(CallId id, HttpResponse resp);
  void on_grpc_error(Call& call, int http_status, const std::string& body);
  void on_attempt_failed(Call& call, const std::string& why, bool may_retry);
  void finish(CallId id, Result<std::string> result);
  void expire_calls();
  int64_t attempt_budget_ms(const Call& call) const;
  Error exhausted_error(const Call& call) const;
  void deliver_watch_events();

  // auth.cpp
  bool auth_needed() const { return !options_.user.empty() && !auth_disabled_on_server_ && token_.empty(); }
  std::vector<std::string> auth_headers() const;  // per-request headers: token, require-leader
  Transport::Id authenticate(size_t endpoint, int64_t deadline_ms, std::function<void(Status)> done);

  Options options_;
  Transport transport_;
  Timers timers_;
  std::map<CallId, std::unique_ptr<Call>> calls_;
  CallId next_call_id_ = 1;
  size_t preferred_ = 0;
  std::string token_;
  bool auth_disabled_on_server_ = false;
  std::set<Watch*> watches_;
};

}  // namespace pg_ha::etcd
