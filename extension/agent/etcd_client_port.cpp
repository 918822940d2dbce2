#include "agent/etcd_client_port.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

Result<kv::PrefixSnapshot> EtcdClientPort::read_prefix(const std::string& prefix) {
  auto r = client_.range(etcd::RangeRequest::prefix(prefix));
  if (!r.ok()) return r.error();
  return kv::PrefixSnapshot{r->revision, std::move(r->kvs)};
}

Result<kv::TxnResult> EtcdClientPort::txn(const kv::Txn& txn) { return client_.txn(txn); }

// The TTL etcd answers with is kept: the write deadline follows it, not the TTL asked for.
Result<GrantedLease> EtcdClientPort::lease_grant(int ttl_s) {
  auto r = client_.lease_grant(ttl_s);
  if (!r.ok()) return r.error();
  return GrantedLease{r->id, r->ttl_s};
}

Result<KeptAlive> EtcdClientPort::lease_keepalive(int64_t id) {
  auto r = client_.lease_keepalive(id);
  if (!r.ok()) return r.error();
  return KeptAlive{r->revision, r->ttl_s};
}

Status EtcdClientPort::lease_revoke(int64_t id) { return client_.lease_revoke(id); }

Result<LeaseTtl> EtcdClientPort::lease_time_to_live(int64_t id) {
  auto r = client_.lease_time_to_live(id);
  if (!r.ok()) return r.error();
  return LeaseTtl{r->ttl_s, r->granted_ttl_s, r->revision};
}

// One long-lived watch, started from the revision the agent last read; the client resumes it
// after a dropped stream without losing or repeating events.
Result<WatchBatch> EtcdClientPort::watch_changes(const std::string& prefix, int64_t after_revision, int timeout_ms) {
  // A watch started "from now" before the first read may have missed what came between: once
  // there is a revision to resume from, start over from it.
  bool from_now = watch_ && watch_started_after_ == 0 && after_revision > 0;
  if (!watch_ || watch_->stopped() || watch_prefix_ != prefix || from_now) {
    watch_ = client_.watch(etcd::WatchRequest::prefix(prefix, after_revision > 0 ? after_revision + 1 : 0));
    watch_prefix_ = prefix;
    watch_started_after_ = after_revision;
  }
  auto events = watch_->poll(timeout_ms);
  if (!events.ok()) {
    watch_.reset();
    return events.error();
  }
  WatchBatch batch;
  for (etcd::WatchEvent& ev : *events) {
    batch.changes.push_back(WatchChange{ev.type == etcd::EventType::Delete, std::move(ev.kv)});
  }
  batch.revision = watch_->last_revision();
  return batch;
}

}  // namespace pg_ha::agent
