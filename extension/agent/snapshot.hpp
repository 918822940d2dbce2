// The status snapshot the worker publishes in shared memory for the SQL functions (and through
// them the sidecar's HTTP checks). One JSON document:
//   {"version":1, "at_unix_ms", "standalone", "node":{...}, "cluster":{...}, "members":[...],
//    "history":[...], "problems":[...]}
// node:    name, role, state, reason, timeline, flush_lsn, replay_lsn, upstream, fenced,
//          fence_reason, write_deadline_in_ms, etcd_reachable, etcd_error, lease_id, pending_restart
// cluster: leader, term, primary, timeline, paused, sync_active, sync_quorum, sync_standbys,
//          request ({from,to,failover,force} or null), config (the config record)
// members: each member record plus lag_bytes (behind the primary's published position)
// history: the history records, oldest first; when the whole document would not fit in
//          max_bytes, only the newest that fit, `history_omitted` says how many were left out and
//          a problem says so (the snapshot never silently stops being published)
// Every string is rendered with invalid UTF-8 replaced (U+FFFD): whatever etcd holds, rendering
// never throws.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/decision.hpp"
#include "core/observation.hpp"
#include "core/schema.hpp"

namespace pg_ha::agent {

// The shared-memory slot holds 64 KiB including the terminating NUL (pg/shmem.hpp).
constexpr size_t kSnapshotMaxBytes = 64 * 1024 - 1;

struct SnapshotInput {
  const core::NodeConfig& node;
  const core::ClusterConfig& config;
  const core::EtcdView* view;        // nullptr: never read etcd successfully
  const core::Observation& obs;
  const core::Decision& decision;
  bool etcd_reachable = false;
  std::string etcd_error;
  size_t max_bytes = kSnapshotMaxBytes;
};

std::string render_snapshot(const SnapshotInput& in);
// The snapshot of a server without etcd endpoints: standalone, never fenced.
std::string render_standalone_snapshot(const std::string& node_name, const core::LocalObservation& local,
                                       int64_t at_unix_ms);

}  // namespace pg_ha::agent
