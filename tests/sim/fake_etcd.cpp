#include "fake_etcd.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

const kv::KeyValue* FakeEtcd::get(const std::string& key) const {
  auto it = kvs_.find(key);
  return it == kvs_.end() ? nullptr : &it->second;
}

// etcd: empty range_end = the key alone; "\0" = every key >= key.
std::vector<std::string> FakeEtcd::keys_in(const std::string& key, const std::string& range_end) const {
  std::vector<std::string> out;
  if (range_end.empty()) {
    if (kvs_.count(key)) out.push_back(key);
    return out;
  }
  bool to_end = range_end == std::string(1, '\0');
  for (auto it = kvs_.lower_bound(key); it != kvs_.end() && (to_end || it->first < range_end); ++it) out.push_back(it->first);
  return out;
}

std::vector<kv::KeyValue> FakeEtcd::range(const std::string& key, const std::string& range_end) const {
  std::vector<kv::KeyValue> out;
  for (const std::string& k : keys_in(key, range_end)) out.push_back(kvs_.at(k));
  return out;
}

bool FakeEtcd::compare_holds_now(const kv::Compare& c) const {
  if (c.range_end.empty()) return kv::compare_holds(c, get(c.key));
  for (const std::string& k : keys_in(c.key, c.range_end)) {
    if (!kv::compare_holds(c, &kvs_.at(k))) return false;
  }
  return true;  // a ranged compare over no key holds
}

bool FakeEtcd::compares_hold(const kv::Txn& t) const {
  for (const kv::Compare& c : t.compare) {
    if (!compare_holds_now(c)) return false;
  }
  return true;
}

bool FakeEtcd::apply_put(const kv::RequestOp& op, int64_t rev, std::vector<KvEvent>* events) {
  kv::KeyValue& v = kvs_[op.key];
  if (v.create_revision == 0) {
    v.key = op.key;
    v.create_revision = rev;
    v.version = 0;
  }
  v.value = op.value;
  v.mod_revision = rev;
  v.version += 1;
  v.lease = op.lease;
  events->push_back(KvEvent{rev, false, v});
  return true;
}

int64_t FakeEtcd::apply_delete(const std::string& key, const std::string& range_end, int64_t rev,
                               std::vector<KvEvent>* events) {
  int64_t n = 0;
  for (const std::string& k : keys_in(key, range_end)) {
    kv::KeyValue gone;
    gone.key = k;
    gone.mod_revision = rev;
    events->push_back(KvEvent{rev, true, gone});
    kvs_.erase(k);
    ++n;
  }
  return n;
}

Result<kv::TxnResult> FakeEtcd::txn(const kv::Txn& t, std::vector<KvEvent>* events) {
  kv::TxnResult r;
  r.succeeded = compares_hold(t);
  const std::vector<kv::RequestOp>& ops = r.succeeded ? t.success : t.failure;
  for (const kv::RequestOp& op : ops) {
    if (op.kind == kv::RequestOp::Kind::Put && op.lease != 0 && !leases_.count(op.lease)) {
      return make_error(ErrorKind::NotFound, "etcdserver: requested lease not found");
    }
  }
  // Every write of one txn shares one new revision; a txn that changes nothing keeps it.
  int64_t rev = revision_ + 1;
  size_t before = events->size();
  for (const kv::RequestOp& op : ops) {
    kv::ResponseOp resp;
    resp.kind = op.kind;
    if (op.kind == kv::RequestOp::Kind::Put) {
      apply_put(op, rev, events);
    } else if (op.kind == kv::RequestOp::Kind::DeleteRange) {
      resp.deleted = apply_delete(op.key, op.range_end, rev, events);
    } else {
      resp.kvs = range(op.key, op.range_end);
    }
    r.responses.push_back(std::move(resp));
  }
  if (events->size() > before) revision_ = rev;
  r.revision = revision_;
  return r;
}

int64_t FakeEtcd::grant(int64_t ttl_ms, TimeMs etcd_now_ms) {
  int64_t id = next_lease_id_++;
  leases_[id] = Lease{ttl_ms, etcd_now_ms + ttl_ms};
  return id;
}

bool FakeEtcd::keepalive(int64_t id, TimeMs etcd_now_ms) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return false;
  it->second.expiry_ms = etcd_now_ms + it->second.ttl_ms;
  return true;
}

int64_t FakeEtcd::delete_lease_keys(int64_t id, std::vector<KvEvent>* events) {
  std::vector<std::string> doomed;
  for (const auto& [k, v] : kvs_) {
    if (v.lease == id) doomed.push_back(k);
  }
  if (doomed.empty()) return 0;
  int64_t rev = ++revision_;   // etcd deletes a lease's keys in one transaction
  for (const std::string& k : doomed) apply_delete(k, "", rev, events);
  return static_cast<int64_t>(doomed.size());
}

bool FakeEtcd::revoke(int64_t id, std::vector<KvEvent>* events) {
  if (!leases_.erase(id)) return false;
  delete_lease_keys(id, events);
  return true;
}

std::vector<int64_t> FakeEtcd::expire(TimeMs etcd_now_ms, std::vector<KvEvent>* events) {
  std::vector<int64_t> gone;
  for (const auto& [id, l] : leases_) {
    if (l.expiry_ms <= etcd_now_ms) gone.push_back(id);
  }
  for (int64_t id : gone) revoke(id, events);
  return gone;
}

std::optional<TimeMs> FakeEtcd::next_expiry_ms() const {
  std::optional<TimeMs> best;
  for (const auto& [id, l] : leases_) {
    if (!best || l.expiry_ms < *best) best = l.expiry_ms;
  }
  return best;
}

void FakeEtcd::renew_all(TimeMs etcd_now_ms, TimeMs extend_ms) {
  for (auto& [id, l] : leases_) {
    if (l.expiry_ms < etcd_now_ms + l.ttl_ms + extend_ms) l.expiry_ms = etcd_now_ms + l.ttl_ms + extend_ms;
  }
}

std::optional<FakeEtcd::TimeToLive> FakeEtcd::time_to_live(int64_t id, TimeMs etcd_now_ms, bool ceil) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return std::nullopt;
  TimeMs left = std::max<TimeMs>(0, it->second.expiry_ms - etcd_now_ms);
  int64_t remaining = ceil ? (left + 999) / 1000 : left / 1000;
  return TimeToLive{remaining, it->second.ttl_ms / 1000};
}

}  // namespace pg_ha::sim
