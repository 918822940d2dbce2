// Brings the data directory to a state postgres can start from, once, before supervision. First
// the node's identity (<state_dir>/member.identity): a name held by a live member of another
// identity, or data of another cluster than the identity's, is refused before anything is touched.
//   empty  -> race on `initialize`; the winner runs initdb, the others clone the leader;
//   a cluster -> its system identifier must match `initialize` (or adopts an empty cluster key);
//   anything else -> refused, never touched.
// Markers in state_dir make every step safe to replay after a crash of the sidecar.
#pragma once

#include <string>

#include "cluster_view.hpp"
#include "common/result.hpp"
#include "node.hpp"

namespace pg_ha::sidecar {

constexpr const char* kCloneMarker = "clone.in_progress";          // a half-made clone: move aside, redo
constexpr const char* kRewindMarker = "rewind.in_progress";        // an interrupted pg_rewind: re-clone
constexpr const char* kExtensionMarker = "bootstrap.extension_pending";  // CREATE EXTENSION still to do

// *cloned_from names the member the data directory was just cloned from ("" if none).
Status prepare_data_dir(const Node& node, ClusterView& cluster, std::string* cloned_from);

// Clones `from` into the data directory (moving a non-empty one aside first) and leaves it ready
// to start as a standby. Shared by joining and by the reclone request.
Status clone_from(const Node& node, ClusterView& cluster, const Upstream& from);

// CREATE EXTENSION pg_ha, once this node holds leadership (commits are refused before: the fence).
// Returns true when nothing is left to do.
bool finish_bootstrap(const Node& node, ClusterView& cluster);

// etcd holds no `initialize` key: the cluster's keys are new or lost, and the next cluster starts
// again at term 1. Removes the worker's record of the highest term it has seen
// (agent/term_memory.hpp), which would otherwise make it refuse the new cluster's state.
void forget_terms_of_a_lost_cluster(const Node& node);

}  // namespace pg_ha::sidecar
