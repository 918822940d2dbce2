// Typed operations: each submit_* is the generic engine plus one codec pair; each blocking call
// is its submit_* driven to completion (one way to do a thing).
#include <optional>
#include <poll.h>
#include <utility>

#include "etcd/client.hpp"
#include "etcd/clock.hpp"
#include "etcd/codec.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

namespace {

constexpr int64_t kInterruptCheckMs = 20;

// Adapts a typed callback to the engine's raw-body callback through one decoder.
template <class T>
auto decoded(Result<T> (*decode)(const std::string&), Client::Callback<T> done) {
  return [decode, done = std::move(done)](Result<std::string> body, const std::string& endpoint) {
    if (!body) return done(body.error());
    Result<T> value = decode(body.value());
    if (!value && value.error().kind == ErrorKind::Protocol) {
      return done(make_error(ErrorKind::Protocol, "etcd " + endpoint + ": " + value.error().message));
    }
    done(std::move(value));
  };
}

Result<Unit> decode_unit(const std::string& body) { return codec::decode_lease_revoke(body); }

}  // namespace

Client::CallId Client::submit_range(RangeRequest req, Callback<RangeResult> done) {
  return submit("/v3/kv/range", codec::encode_range(req), true, decoded(&codec::decode_range, std::move(done)));
}

// A repeated put or delete leaves the same state behind (one extra revision at most).
Client::CallId Client::submit_put(PutRequest req, Callback<PutResult> done) {
  return submit("/v3/kv/put", codec::encode_put(req), true, decoded(&codec::decode_put, std::move(done)));
}

Client::CallId Client::submit_delete(DeleteRequest req, Callback<DeleteResult> done) {
  return submit("/v3/kv/deleterange", codec::encode_delete(req), true, decoded(&codec::decode_delete, std::move(done)));
}

// A repeated txn could report "compare failed" for its own earlier success: never repeated.
Client::CallId Client::submit_txn(kv::Txn txn, Callback<kv::TxnResult> done) {
  return submit("/v3/kv/txn", codec::encode_txn(txn), false, decoded(&codec::decode_txn, std::move(done)));
}

// A repeated grant at worst leaves an unused lease that expires by itself.
Client::CallId Client::submit_lease_grant(int64_t ttl_s, Callback<LeaseGrant> done) {
  return submit("/v3/lease/grant", codec::encode_lease_grant(ttl_s), true, decoded(&codec::decode_lease_grant, std::move(done)));
}

Client::CallId Client::submit_lease_keepalive(int64_t lease_id, Callback<LeaseKeepAlive> done) {
  return submit("/v3/lease/keepalive", codec::encode_lease_id(lease_id), true,
                decoded(&codec::decode_lease_keepalive, std::move(done)));
}

Client::CallId Client::submit_lease_revoke(int64_t lease_id, Callback<Unit> done) {
  return submit("/v3/lease/revoke", codec::encode_lease_id(lease_id), true, decoded(&decode_unit, std::move(done)));
}

Client::CallId Client::submit_lease_time_to_live(int64_t lease_id, Callback<LeaseTimeToLive> done) {
  return submit("/v3/lease/timetolive", codec::encode_lease_time_to_live(lease_id), true,
                decoded(&codec::decode_lease_time_to_live, std::move(done)));
}

Status Client::run_until(const std::function<bool()>& done, int64_t timeout_ms) {
  const int64_t deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  std::vector<pollfd> fds;
  for (;;) {
    perform();
    if (done()) return ok_status();
    if (options_.interrupt && options_.interrupt()) return make_error(ErrorKind::Interrupted, "etcd: request interrupted");
    int64_t wait_ms = kInterruptCheckMs;
    if (int64_t engine_ms = this->timeout_ms(); engine_ms >= 0) wait_ms = std::min(wait_ms, engine_ms);
    if (deadline_ms >= 0) {
      int64_t left = deadline_ms - now_ms();
      if (left <= 0) return make_error(ErrorKind::Timeout, "etcd: wait timed out after " + std::to_string(timeout_ms) + " ms");
      wait_ms = std::min(wait_ms, left);
    }
    fds.clear();
    for (const auto& s : sockets()) {
      short events = short((s.read ? POLLIN : 0) | (s.write ? POLLOUT : 0));
      fds.push_back(pollfd{s.fd, events, 0});
    }
    int n = ::poll(fds.data(), fds.size(), int(wait_ms));
    for (int i = 0; n > 0 && i < int(fds.size()); ++i) {
      if (fds[i].revents == 0) continue;
      bool readable = fds[i].revents & (POLLIN | POLLHUP | POLLERR);
      bool writable = fds[i].revents & (POLLOUT | POLLERR);
      on_socket_ready(fds[i].fd, readable, writable);
    }
  }
}

template <class T>
Result<T> Client::wait_for(const std::function<CallId(Callback<T>)>& submit_fn) {
  std::optional<Result<T>> out;
  CallId id = submit_fn([&out](Result<T> r) { out.emplace(std::move(r)); });
  Status s = run_until([&out] { return out.has_value(); });
  if (!out) {
    cancel(id);
    return s.error();
  }
  return std::move(*out);
}

Result<RangeResult> Client::range(const RangeRequest& req) {
  return wait_for<RangeResult>([&](Callback<RangeResult> cb) { return submit_range(req, std::move(cb)); });
}

Result<std::optional<kv::KeyValue>> Client::get(const std::string& key) {
  auto r = range(RangeRequest::single(key));
  if (!r) return r.error();
  if (r->kvs.empty()) return std::optional<kv::KeyValue>();
  return std::optional<kv::KeyValue>(std::move(r->kvs.front()));
}

Result<PutResult> Client::put(const PutRequest& req) {
  return wait_for<PutResult>([&](Callback<PutResult> cb) { return submit_put(req, std::move(cb)); });
}

Result<PutResult> Client::put(const std::string& key, const std::string& value, int64_t lease_id) {
  PutRequest req;
  req.key = key;
  req.value = value;
  req.lease = lease_id;
  return put(req);
}

Result<DeleteResult> Client::delete_range(const DeleteRequest& req) {
  return wait_for<DeleteResult>([&](Callback<DeleteResult> cb) { return submit_delete(req, std::move(cb)); });
}

Result<kv::TxnResult> Client::txn(const kv::Txn& txn) {
  return wait_for<kv::TxnResult>([&](Callback<kv::TxnResult> cb) { return submit_txn(txn, std::move(cb)); });
}

Result<LeaseGrant> Client::lease_grant(int64_t ttl_s) {
  return wait_for<LeaseGrant>([&](Callback<LeaseGrant> cb) { return submit_lease_grant(ttl_s, std::move(cb)); });
}

Result<LeaseKeepAlive> Client::lease_keepalive(int64_t lease_id) {
  return wait_for<LeaseKeepAlive>([&](Callback<LeaseKeepAlive> cb) { return submit_lease_keepalive(lease_id, std::move(cb)); });
}

Status Client::lease_revoke(int64_t lease_id) {
  return wait_for<Unit>([&](Callback<Unit> cb) { return submit_lease_revoke(lease_id, std::move(cb)); });
}

Result<LeaseTimeToLive> Client::lease_time_to_live(int64_t lease_id) {
  return wait_for<LeaseTimeToLive>([&](Callback<LeaseTimeToLive> cb) { return submit_lease_time_to_live(lease_id, std::move(cb)); });
}

}  // namespace pg_ha::etcd
