// What a driver (the worker in PostgreSQL, or the simulator) tells the core each step.
#pragma once

#include <string>
#include <vector>

#include "core/types.hpp"

namespace pg_ha::core {

struct StandbyConnection {
  std::string name;         // member name, from its application_name
  Lsn flush_lsn = 0;
  bool streaming = false;
  std::string member_id;    // identity prefix, from its application_name ("" = none; core/sync_names.hpp)
};

// This node's PostgreSQL as the worker sees it.
struct LocalObservation {
  bool postgres_running = true;
  bool in_recovery = false;
  bool promote_in_progress = false;
  uint32_t timeline = 0;
  Lsn flush_lsn = 0;            // primary: WAL flushed; replica: WAL received and flushed (0 = not known yet)
  Lsn replay_lsn = 0;
  bool receiver_streaming = false;
  std::string upstream;         // the member named in the conninfo file we own ("" = none)
  std::vector<StandbyConnection> standbys;  // primary only
  std::string synchronous_standby_names;    // current setting
  bool pending_restart = false;
  uint64_t system_identifier = 0;
  Lsn timeline_start_lsn = 0;   // primary: where its timeline branched off (its .history file); 0 = unknown
  std::string sidecar_done_id;  // id of the last request the sidecar finished (its result file)
};

// The worker's etcd lease, kept alive by the driver every loop_wait.
struct LeaseObservation {
  int64_t id = 0;                 // 0 = no lease yet (or it expired and a new one is pending)
  TimeMs last_ok_sent_ms = -1;    // send time of the last keep-alive (or grant) that succeeded
  // The TTL etcd gave this lease (LeaseGrant / LeaseKeepAlive answer): what etcd renews it to,
  // whatever the config says now. 0 = unknown: the primary then never gets a write deadline.
  int64_t granted_ttl_s = 0;
};

// LeaseTimeToLive of the lease `leader` is held under, as etcd answered it (whole seconds, as
// etcd reports them). Asked for by the core (Decision::read_lease_ttl) on replicas when fast
// takeover may apply; id 0 = no answer yet.
struct LeaseTtlReading {
  int64_t id = 0;
  int64_t remaining_s = -1;       // -1: etcd no longer knows the lease (expired)
  int64_t granted_s = 0;
  int64_t header_revision = 0;    // etcd's store revision when it answered
  TimeMs sent_ms = -1;            // local time the request was sent
};

// Requests carried from SQL to the core through shared memory are written to etcd by the worker
// directly (they are transactions on `state`), so the core sees them in the view, not here.
struct Observation {
  TimeMs now_ms = 0;
  LocalObservation local;
  LeaseObservation lease;
  LeaseTtlReading leader_lease;   // replicas: the last reading of the leader's lease
  bool etcd_view_fresh = false;   // read (or watched) recently, and after this node's last successful write
  TimeMs etcd_view_ms = -1;       // when the view was last confirmed current
  int64_t wall_clock_unix_ms = 0; // for display in history records only; never for decisions
};

}  // namespace pg_ha::core
