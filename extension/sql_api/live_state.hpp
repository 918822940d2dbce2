// What must be exact at the moment of the call, read live rather than from the snapshot: whether
// this server is in recovery, and whether its fence refuses commits right now.
#pragma once

#include <string>

namespace pg_ha::sql_api {

struct LiveState {
  std::string role;          // "primary" or "replica"
  bool fenced = false;       // commits are refused now (same test as the commit callback)
  std::string fence_reason;
  std::string receiver_state;  // WAL receiver: "streaming", "stopped", ... ("" on a primary)
};

LiveState read_live_state();

}  // namespace pg_ha::sql_api
