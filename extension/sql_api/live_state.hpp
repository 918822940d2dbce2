// What must be exact at the moment of the call, read live rather than from the snapshot: whether
// this server is in recovery, and whether its fence refuses commits right now.
#pragma once

#include <cstdint>
#include <string>

namespace pg_ha::sql_api {

struct LiveState {
  std::string role;          // "primary" or "replica"
  bool fenced = false;       // commits are refused now (same test as the commit callback)
  std::string fence_reason;
  std::string receiver_state;  // WAL receiver: "streaming", "stopped", ... ("" on a primary)
  uint32_t timeline = 0;       // 0 while recovery has not replayed anything yet
  uint64_t flush_lsn = 0;      // primary: flushed; replica: received (or replayed, if further)
  uint64_t replay_lsn = 0;
};

LiveState read_live_state();

}  // namespace pg_ha::sql_api
