// Cluster mode (etcd endpoints configured): the loop that drives the core with etcd.
#pragma once

namespace pg_ha::worker {

// Returns true on a requested shutdown, false on postmaster death or a fatal problem.
bool run_cluster_loop();

}  // namespace pg_ha::worker
