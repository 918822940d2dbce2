#include "down_publisher.hpp"

#include "log.hpp"

namespace pg_ha::sidecar {
namespace {
constexpr int64_t kRetryMs = 1000;
}

bool DownPublisher::ensure_lease(int64_t now_ms) {
  if (lease_ != 0 && now_ms < next_keepalive_ms_) return true;
  if (lease_ != 0) {
    Status k = store_.lease_keepalive(lease_);
    if (k) {
      next_keepalive_ms_ = now_ms + kDownLeaseTtlS * 1000 / 3;
      return true;
    }
    if (k.error().kind != ErrorKind::NotFound) return false;   // try again on a later turn
    lease_ = 0;              // expired while etcd was away: the key went with it
    published_.clear();
  }
  auto granted = store_.lease_grant(kDownLeaseTtlS);
  if (!granted) return false;
  lease_ = *granted;
  next_keepalive_ms_ = now_ms + kDownLeaseTtlS * 1000 / 3;
  return true;
}

void DownPublisher::publish(const core::DownRecord& record, int64_t now_ms) {
  if (now_ms < next_try_ms_) return;
  std::string value = core::encode(record);
  if (!ensure_lease(now_ms)) {
    next_try_ms_ = now_ms + kRetryMs;
    return;
  }
  if (value == published_) return;
  kv::Txn txn;
  txn.success.push_back(kv::RequestOp::put(keys_.down(record.name), value, lease_));
  auto r = store_.txn(txn);
  if (!r) {
    log_warn("cannot publish this node's down record: " + r.error().message);
    next_try_ms_ = now_ms + kRetryMs;
    return;
  }
  if (published_.empty()) log_info("published down/" + record.name + ": " + record.state + ": " + record.reason);
  published_ = value;
  next_try_ms_ = now_ms + kRetryMs;   // a changing reason is rewritten at most once a second
}

void DownPublisher::clear() {
  if (lease_ == 0) return;
  // Revoking the lease deletes the key with it. Unanswered: the key expires after the ttl.
  Status s = store_.lease_revoke(lease_);
  if (!s && s.error().kind != ErrorKind::NotFound) log_warn("cannot revoke the down record's lease: " + s.error().message);
  else if (!published_.empty()) log_info("removed this node's down record");
  lease_ = 0;
  published_.clear();
  next_try_ms_ = 0;
}

}  // namespace pg_ha::sidecar
