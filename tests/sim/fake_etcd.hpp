// One logical etcd with real v3 semantics: a global revision, keys with create/mod revision,
// version and lease; transactions with single-key and ranged compares (kv::compare_holds);
// leases that expire on etcd's own clock and delete their keys. No transport: the network model
// decides whether a request gets here and whether its answer gets back.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "common/kv.hpp"
#include "common/result.hpp"

namespace pg_ha::sim {

struct KvEvent {
  int64_t revision = 0;
  bool deleted = false;
  kv::KeyValue kv;   // the new value; for a delete, the key with revision = the delete's revision
};

class FakeEtcd {
 public:
  int64_t revision() const { return revision_; }
  const kv::KeyValue* get(const std::string& key) const;
  std::vector<kv::KeyValue> range(const std::string& key, const std::string& range_end) const;

  // The whole transaction or nothing; an error (lease not found) changes nothing, like etcd.
  Result<kv::TxnResult> txn(const kv::Txn& t, std::vector<KvEvent>* events);
  // Which branch `t` would take now (for checkers that inspect a write before it applies).
  bool compares_hold(const kv::Txn& t) const;

  int64_t grant(int64_t ttl_ms, TimeMs etcd_now_ms);
  bool keepalive(int64_t id, TimeMs etcd_now_ms);     // false: the lease is gone
  bool revoke(int64_t id, std::vector<KvEvent>* events);
  // Expires every lease whose deadline passed on etcd's clock; returns the ids expired.
  std::vector<int64_t> expire(TimeMs etcd_now_ms, std::vector<KvEvent>* events);
  std::optional<TimeMs> next_expiry_ms() const;
  // After an outage etcd's new leader gives every lease a full TTL again (etcd does this);
  // `extend_ms` more, as etcd's lessor adds on promotion.
  void renew_all(TimeMs etcd_now_ms, TimeMs extend_ms = 0);
  // LeaseTimeToLive: remaining and granted TTL in whole seconds; etcd truncates the remaining time
  // (`ceil` rounds it up instead: the core must be safe either way). nullopt: no such lease.
  struct TimeToLive {
    int64_t remaining_s = 0;
    int64_t granted_s = 0;
  };
  std::optional<TimeToLive> time_to_live(int64_t id, TimeMs etcd_now_ms, bool ceil) const;
  bool lease_alive(int64_t id) const { return leases_.count(id) != 0; }
  // The TTL the lease was granted with, as etcd reports it in grant and keep-alive answers (s).
  int64_t lease_ttl_s(int64_t id) const {
    auto it = leases_.find(id);
    return it == leases_.end() ? 0 : it->second.ttl_ms / 1000;
  }
  // When the lease expires on etcd's clock (0 = no such lease).
  TimeMs lease_expiry_ms(int64_t id) const {
    auto it = leases_.find(id);
    return it == leases_.end() ? 0 : it->second.expiry_ms;
  }

 private:
  struct Lease {
    int64_t ttl_ms = 0;
    TimeMs expiry_ms = 0;
  };
  bool compare_holds_now(const kv::Compare& c) const;
  bool apply_put(const kv::RequestOp& op, int64_t rev, std::vector<KvEvent>* events);
  int64_t apply_delete(const std::string& key, const std::string& range_end, int64_t rev, std::vector<KvEvent>* events);
  std::vector<std::string> keys_in(const std::string& key, const std::string& range_end) const;
  int64_t delete_lease_keys(int64_t id, std::vector<KvEvent>* events);

  std::map<std::string, kv::KeyValue> kvs_;
  std::map<int64_t, Lease> leases_;
  int64_t revision_ = 1;
  int64_t next_lease_id_ = 0x7a3f000000001;
};

}  // namespace pg_ha::sim
