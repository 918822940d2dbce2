#include "agent/etcd_client_port.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

Result<PrefixSnapshot> EtcdClientPort::read_prefix(const std::string& prefix) {
  auto r = client_.range(etcd::RangeRequest::prefix(prefix));
  if (!r.ok()) return r.error();
  return PrefixSnapshot{r->revision, std::move(r->kvs)};
}

Result<kv::TxnResult> EtcdClientPort::txn(const kv::Txn& txn) { return client_.txn(txn); }

Result<int64_t> EtcdClientPort::lease_grant(int ttl_s) {
  auto r = client_.lease_grant(ttl_s);
  if (!r.ok()) return r.error();
  return r->id;
}

Status EtcdClientPort::lease_keepalive(int64_t id) {
  auto r = client_.lease_keepalive(id);
  if (!r.ok()) return r.error();
  return ok_status();
}

Status EtcdClientPort::lease_revoke(int64_t id) { return client_.lease_revoke(id); }

// One long-lived watch, (re)started from the revision the agent last read. Events only say
// "something changed": the agent re-reads before it decides.
Result<bool> EtcdClientPort::wait_for_change(const std::string& prefix, int64_t after_revision, int timeout_ms) {
  if (!watch_ || watch_->stopped() || watch_prefix_ != prefix) {
    watch_ = client_.watch(etcd::WatchRequest::prefix(prefix, after_revision > 0 ? after_revision + 1 : 0));
    watch_prefix_ = prefix;
  }
  auto events = watch_->poll(timeout_ms);
  if (!events.ok()) {
    watch_.reset();
    return events.error();
  }
  return !events->empty();
}

}  // namespace pg_ha::agent
