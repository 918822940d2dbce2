// The client: writes one row at a time through whichever node can commit at that instant, and
// records every acknowledged commit (asynchronous: at local flush; synchronous: once the
// standbys that synchronous_standby_names requires have flushed it).
#pragma once

#include <cstdint>
#include <vector>

#include "clock.hpp"
#include "pg_model.hpp"

namespace pg_ha::sim {

struct World;

struct PendingCommit {
  int node = 0;
  uint64_t pg_incarnation = 0;
  uint32_t timeline = 0;
  Lsn lsn = 0;
  TimeMs at_ms = 0;
};

struct ClientState {
  std::vector<PendingCommit> waiting;   // committed locally, waiting for synchronous standbys
  size_t stalled = 0;                   // past the pre-commit check, stalled before the commit record
};

void client_write(World& w);
// Acknowledges waiting commits whose standbys have confirmed; drops those whose server died or
// whose write deadline passed meanwhile (the fence's COMMIT check ends such a session unacknowledged).
void client_release(World& w);
// The standbys streaming from node n (what pg_stat_replication shows there).
std::vector<StandbyFlush> streaming_standbys(const World& w, int n);

}  // namespace pg_ha::sim
