// What the core asks its driver to do after one step. Level-triggered: the same world gives the
// same decision, so a driver that crashes and restarts simply steps again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/kv.hpp"
#include "core/node_state.hpp"
#include "core/types.hpp"

namespace pg_ha::core {

// A request to the sidecar. `id` is stable for the same intent, so re-sending it is idempotent.
struct SidecarRequest {
  enum class Kind { Demote, Rewind, Reclone, Restart, ReleaseLease };
  Kind kind = Kind::Demote;
  std::string id;
  std::string primary;          // Demote/Rewind/Reclone: the member to follow afterwards
  std::string primary_host;
  int primary_port = 0;
  std::string reason;
};
const char* sidecar_request_kind_name(SidecarRequest::Kind kind);

struct FollowTarget {
  std::string name;
  std::string host;
  int port = 0;
  bool operator==(const FollowTarget& o) const { return name == o.name && host == o.host && port == o.port; }
};

// EtcdWrite::what of the primary's arm (rules_gate.cpp): its driver sends a keep-alive right after.
inline constexpr const char* kArmWhat = "arm the write gate";

// One etcd transaction with the reason it is made (logged; used by the simulator's trace).
struct EtcdWrite {
  std::string what;     // "heartbeat", "election report", "take leadership", ...
  kv::Txn txn;
};

struct Decision {
  // The write deadline to publish to shared memory: commits are refused once the node's monotonic
  // clock passes it. 0 = fenced now. Only a node that holds `leader` gets a future deadline.
  TimeMs write_deadline_ms = 0;
  bool fenced = true;                 // not allowed to accept client connections and writes
  std::string fence_reason;           // why, for errors and status ("" when unfenced)
  bool promote = false;               // call pg_promote now (idempotent while promoting)
  std::optional<FollowTarget> follow; // replica: stream from this member (rewrite conninfo, reload)
  std::optional<std::string> synchronous_standby_names;  // primary: the setting to apply
  std::optional<SidecarRequest> sidecar;                 // the request that should be pending
  std::vector<EtcdWrite> writes;      // in order; each is checked by the driver, never assumed
  // Fast takeover: a replica asks for LeaseTimeToLive of this lease (the leader's) before its next
  // step (0 = none); a primary whose gate lapsed asks its driver to stop renewing its own lease, so
  // that its silence shows in etcd and a replica can take over (docs/protocol.md).
  int64_t read_lease_ttl = 0;
  TimeMs read_lease_ttl_at = 0;       // not before this local time: an earlier answer cannot show it
  bool hold_keepalive = false;
  TimeMs wake_at_ms = kNever;         // step again no later than this
  NodeState state = NodeState::Fenced;  // what status and logs show (node_state.hpp); every step sets it
  std::string reason;                 // why this decision, one line for the log and status
};

}  // namespace pg_ha::core
