// The worker's view of its own PostgreSQL, read from shared memory only (no SQL, no database
// connection): what the core needs as core::LocalObservation, plus a few details for status.
#pragma once

#include <cstdint>
#include <string>

#include "core/observation.hpp"

namespace pg_ha::worker {

struct LocalDetails {
  core::LocalObservation observation;
  std::string receiver_state;   // "stopped", "starting", "streaming", ... ("" on a primary)
  std::string sender_host;      // where the WAL receiver is connected ("" when not)
  int sender_port = 0;
};

// The WAL receiver, as members() and the health checks judge it.
struct ReceiverView {
  std::string state;          // PostgreSQL's state name, or "silent": streaming, but nothing heard
                              // from the primary for longer than a healthy link allows
  bool streaming = false;     // streaming and heard from recently
  int64_t silence_ms = -1;    // since the last message from the primary (-1: not streaming)
  std::string sender_host;    // where it is connected ("" when not streaming)
  int sender_port = 0;
};
ReceiverView observe_receiver();

// `observation.upstream` stays empty: the agent knows whom it told the server to follow.
LocalDetails observe_local();

// Just the WAL position part (in_recovery, timeline, flush and replay LSN): cheap, shared-memory
// reads only, usable from any backend too (the status functions show it live).
void observe_wal_position(core::LocalObservation* o);

}  // namespace pg_ha::worker
