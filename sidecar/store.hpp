// The little the sidecar needs from etcd, as one narrow interface: read a key, run a compare
// transaction, revoke a lease. Implemented over the shared blocking etcd client (etcd_store.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "config.hpp"

namespace pg_ha::sidecar {

class Store {
 public:
  virtual ~Store() = default;
  // Linearizable read of one key; nullopt when it does not exist.
  virtual Result<std::optional<kv::KeyValue>> get(const std::string& key) = 0;
  virtual Result<kv::TxnResult> txn(const kv::Txn& txn) = 0;
  virtual Status lease_revoke(int64_t lease_id) = 0;
  // The sidecar's own lease, for its down/<name> key (down_publisher.hpp). Returns the lease id.
  virtual Result<int64_t> lease_grant(int64_t ttl_s) = 0;
  // An expired or unknown lease: ErrorKind::NotFound.
  virtual Status lease_keepalive(int64_t lease_id) = 0;
};

// The etcd-backed store for this node's configuration (endpoints, credentials, TLS).
Result<std::unique_ptr<Store>> make_etcd_store(const SidecarConfig& config);

}  // namespace pg_ha::sidecar
