// EtcdPort over the etcd client's blocking calls. Each call is bounded by the client's request
// timeout and aborted by its interrupt check, so a partition stalls the agent for at most one
// timeout; the commit gate closes on its own meanwhile (it fails closed). The watch only wakes
// the agent: every decision is taken on a fresh linearizable read.
#pragma once

#include <memory>

#include "agent/ports.hpp"
#include "etcd/client.hpp"

namespace pg_ha::agent {

class EtcdClientPort : public EtcdPort {
 public:
  explicit EtcdClientPort(etcd::Client& client) : client_(client) {}
  Result<PrefixSnapshot> read_prefix(const std::string& prefix) override;
  Result<kv::TxnResult> txn(const kv::Txn& txn) override;
  Result<int64_t> lease_grant(int ttl_s) override;
  Status lease_keepalive(int64_t id) override;
  Status lease_revoke(int64_t id) override;
  Result<bool> wait_for_change(const std::string& prefix, int64_t after_revision, int timeout_ms) override;

 private:
  etcd::Client& client_;
  std::unique_ptr<etcd::Watch> watch_;
  std::string watch_prefix_;
};

}  // namespace pg_ha::agent
