// Rules broken on purpose, so that the simulator can prove each invariant checker bites
// (tests/sim/CANARIES.md). Compiled into every build and all off: only the simulator's
// `--canary NAME` switches one on, before any step runs. No GUC, SQL function or cluster config
// key reaches them.
#pragma once

#include <string>

namespace pg_ha::core {

struct Canaries {
  bool no_fence_margin = false;     // write deadline = keep-alive sent + ttl (no margin, no drift)
  bool config_ttl = false;          // write deadline from the config's ttl, not the TTL etcd granted
  bool no_term_compare = false;     // take-leadership txn without its compares
  bool ignore_sync_set = false;     // automatic promotion ignores the recorded synchronous set
  bool ssn_before_record = false;   // synchronous_standby_names changed before the record
  bool no_lag_check = false;        // automatic promotion ignores maximum_lag_on_failover
  bool worst_candidate = false;     // election picks the lowest (timeline, LSN)
  bool no_sticky_fence = false;     // a late keep-alive answer re-opens a gate whose deadline passed
  bool no_rearm_compare = false;    // the primary's re-arm puts `leader` without comparing its revision
  bool no_silence_margin = false;   // takeover after fence_after of silence, TTL rounding ignored
  bool foreign_identity = false;    // no identity guard: a node acts under a record of another identity
  bool stray_state = false;         // a streaming replica shows state `primary`: a step outside the state table
  bool name_only_standbys = false;  // standbys stream and are named by name alone, without identity (F16)
};

// The flags in force (all false unless a test set them).
const Canaries& canaries();

// Switches on the canary called `name` (a field name above); false if there is none of that name.
// Not thread-safe: call before the first step, as the simulator's main does.
bool enable_canary(const std::string& name);

}  // namespace pg_ha::core
