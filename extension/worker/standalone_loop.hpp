// Standalone mode (no etcd endpoints): no fencing; the worker only keeps the status snapshot
// current so every status function says plainly that this server runs standalone.
#pragma once

namespace pg_ha::worker {

// Returns true on a requested shutdown, false when the postmaster died.
bool run_standalone_loop();

}  // namespace pg_ha::worker
