// The HA core: one pure step function per node, raft-style. The worker and the simulator are its
// two drivers. See docs/protocol.md for the rules it implements and why each invariant holds.
#pragma once

#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/decision.hpp"
#include "core/observation.hpp"
#include "core/schema.hpp"

namespace pg_ha::core {

// What the core remembers between steps. Owned by the driver, returned updated by step(); losing
// it (worker restart) is safe: every field only delays or repeats an idempotent action.
struct NodeMemory {
  int64_t leaderless_term = 0;        // the term whose election we are waiting on
  TimeMs leaderless_since_ms = -1;    // when we first saw that election open
  std::string published_member;       // last heartbeat JSON we wrote, to skip unchanged writes
  std::string published_identity;     // the same without positions: a change is written at once
  TimeMs published_member_ms = -1;
  TimeMs published_optime_ms = -1;
  // Planned switchover in progress on the primary.
  std::string switchover_to;
  int64_t switchover_term = 0;        // the term it was started in: memory from another is stale
  TimeMs switchover_started_ms = -1;
  // Synchronous set shrink in progress (I3): SSN already shrunk at this LSN, record not yet.
  Lsn sync_shrink_lsn = 0;
  // We sent a write that changes the recorded synchronous set and have not stepped on a fresh
  // view since: a stale view may show a record that no longer covers synchronous_standby_names.
  bool sync_write_unconfirmed = false;
  std::string last_reason;            // to log each decision once, not every loop
};

struct StepInput {
  const ClusterConfig& config;        // the validated cluster config (defaults if etcd has none)
  const NodeConfig& node;
  const Keys& keys;
  const EtcdView& view;
  const Observation& obs;
};

struct StepOutput {
  Decision decision;
  NodeMemory memory;
};

StepOutput step(const StepInput& in, const NodeMemory& memory);

}  // namespace pg_ha::core
