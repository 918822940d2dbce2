// EtcdPort over the etcd client's blocking calls. Each call is bounded by the client's request
// timeout and aborted by its interrupt check, so a partition stalls the agent for at most one
// timeout; the commit gate closes on its own meanwhile (it fails closed). The watch feeds the
// agent's view cache; a linearizable read seeds it.
#pragma once

#include <memory>

#include "agent/ports.hpp"
#include "etcd/client.hpp"

namespace pg_ha::agent {

class EtcdClientPort : public EtcdPort {
 public:
  explicit EtcdClientPort(etcd::Client& client) : client_(client) {}
  Result<kv::PrefixSnapshot> read_prefix(const std::string& prefix) override;
  Result<kv::TxnResult> txn(const kv::Txn& txn) override;
  Result<GrantedLease> lease_grant(int ttl_s) override;
  Result<KeptAlive> lease_keepalive(int64_t id) override;
  Status lease_revoke(int64_t id) override;
  Result<LeaseTtl> lease_time_to_live(int64_t id) override;
  Result<WatchBatch> watch_changes(const std::string& prefix, int64_t after_revision, int timeout_ms) override;

 private:
  etcd::Client& client_;
  std::unique_ptr<etcd::Watch> watch_;
  std::string watch_prefix_;
  int64_t watch_started_after_ = 0;
};

}  // namespace pg_ha::agent
