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
  TimeMs published_member_ms = -1;    // our last heartbeat: positions alone are written once per loop_wait
  TimeMs published_optime_ms = -1;
  // Planned switchover in progress on the primary.
  std::string switchover_to;
  int64_t switchover_term = 0;        // the term it was started in: memory from another is stale
  TimeMs switchover_started_ms = -1;
  // Synchronous set shrink in progress (I3): SSN already shrunk at this LSN, record not yet.
  Lsn sync_shrink_lsn = 0;
  // Our last write of the recorded synchronous set (state), until a fresh view shows `state`
  // past the revision it compared against: until then it may still land (an answer lost on the
  // way is not a write refused), so the view's record may be about to change under us.
  TimeMs sync_none_since_ms = -1;     // since when no standby could be synchronous (non-strict grace)
  int64_t sync_write_rev = 0;         // the state mod_revision it compared against; 0: none
  std::string sync_write_value;       // the state it puts
  std::string last_reason;            // to log each decision once, not every loop
  // A replica's WAL position (timeline, flush) and since when it has not moved while behind its
  // primary: a replica that cannot stream for long is rewound or re-cloned (rules_replica.cpp).
  // The primary and term it was behind: a new one gets the whole bound again (FINDINGS F25).
  uint32_t stuck_timeline = 0;
  Lsn stuck_lsn = 0;
  TimeMs stuck_since_ms = -1;
  std::string stuck_primary;
  int64_t stuck_term = 0;
  // The primary's write gate (gate.cpp): the licence keep-alives gave it, and its last arm (the
  // `arm` stamp it wrote into `leader`). Losing these fences the primary until it re-arms.
  TimeMs licence_until_ms = -1;       // local: writes allowed before this
  TimeMs arm_stamp_ms = 0;            // local time of the step that wrote our last arm (0 = none)
  TimeMs rearm_after_ms = -1;         // no new arm before this (an arm that gave no licence backs off)
  // A replica: the leader key's mod_revision it last saw, and since when (fast takeover waits for
  // a silence longer than the window any write of the key could have armed).
  int64_t leader_seen_rev = 0;
  TimeMs leader_seen_ms = -1;
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
