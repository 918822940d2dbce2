// What the agent needs from the world, as two narrow interfaces: etcd (implemented over the etcd
// client) and the local PostgreSQL (implemented by the worker inside PostgreSQL). Keeping them
// narrow keeps the agent free of PostgreSQL headers and of curl details.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "agent/view_cache.hpp"
#include "core/decision.hpp"
#include "core/observation.hpp"
#include "core/slots.hpp"

namespace pg_ha::agent {

struct WatchBatch {
  std::vector<WatchChange> changes;
  int64_t revision = 0;  // every change under the prefix up to here has been delivered
};

// A lease as etcd answered for it: the id and the TTL etcd granted it (what every keep-alive
// renews it to; it may differ from the TTL asked for).
struct GrantedLease {
  int64_t id = 0;
  int64_t ttl_s = 0;
};

struct KeptAlive {
  int64_t revision = 0;  // the store revision the answering member had applied
  int64_t ttl_s = 0;     // the TTL the lease was renewed to
};

// LeaseTimeToLive as etcd answered it: whole seconds, and the answering member's store revision.
struct LeaseTtl {
  int64_t remaining_s = 0;
  int64_t granted_s = 0;
  int64_t revision = 0;
};

class EtcdPort {
 public:
  virtual ~EtcdPort() = default;
  // Linearizable read of every key under prefix.
  virtual Result<kv::PrefixSnapshot> read_prefix(const std::string& prefix) = 0;
  virtual Result<kv::TxnResult> txn(const kv::Txn& txn) = 0;
  virtual Result<GrantedLease> lease_grant(int ttl_s) = 0;
  // NotFound when the lease has expired.
  virtual Result<KeptAlive> lease_keepalive(int64_t id) = 0;
  virtual Status lease_revoke(int64_t id) = 0;
  // Fast takeover: how long the lease has left. NotFound when it has expired.
  virtual Result<LeaseTtl> lease_time_to_live(int64_t id) = 0;
  // Waits up to timeout_ms for changes under the prefix after `after_revision` (one long-lived
  // watch; an empty batch on timeout). Compacted or a stopped watch mean "re-read everything".
  virtual Result<WatchBatch> watch_changes(const std::string& prefix, int64_t after_revision, int timeout_ms) = 0;
};

enum class LogLevel { Debug, Info, Warning };

class LocalPort {
 public:
  virtual ~LocalPort() = default;
  virtual int64_t monotonic_ms() = 0;
  virtual int64_t wall_clock_unix_ms() = 0;
  virtual core::LocalObservation observe() = 0;
  // The lease clock (CLOCK_BOOTTIME in the worker: it counts system suspend, see
  // docs/protocol.md) in ms. Keep-alive send times and the write deadline are on it.
  // The commit gate: commits are refused once monotonic_ms() reaches deadline_ms.
  virtual void publish_gate(int64_t deadline_ms, bool fenced, const std::string& reason) = 0;
  virtual void terminate_client_backends() = 0;
  virtual void promote() = 0;
  virtual void reload_configuration() = 0;
  virtual void publish_snapshot(const std::string& json) = 0;
  virtual void log(LogLevel level, const std::string& message) = 0;
  // True when the agent must stop as soon as possible (SIGTERM, postmaster death).
  virtual bool should_stop() = 0;
  // Replication slots (core/slots.hpp). nullopt: slots cannot be handled now (a standby that is
  // not yet a hot standby has not loaded its slots from disk). The defaults are a node without
  // slots, for drivers that do not model them (the simulator, the agent tests).
  virtual std::optional<std::vector<core::ExistingSlot>> list_slots() { return std::nullopt; }
  virtual Status create_slot(const std::string& /*name*/) { return ok_status(); }
  virtual Status drop_slot(const std::string& /*name*/) { return ok_status(); }
  virtual Status advance_slot(const std::string& /*name*/, core::Lsn /*to*/) { return ok_status(); }
  // The node's tags as its settings say now: a reload (SIGHUP) may have changed them, and the
  // member record must follow without a restart (issue 16). nullopt: as at the agent's start.
  virtual std::optional<core::Tags> current_tags() { return std::nullopt; }
  // Tells this postmaster from every earlier one of the node (its start time): one demotion per
  // postmaster (Agent::apply_local_actions). 0 for drivers with a single postmaster.
  virtual int64_t postmaster_incarnation() { return 0; }
};

}  // namespace pg_ha::agent
