// The highest term this node has seen in etcd's `state`, kept in <state_dir>/pg_ha.highest_term
// so that it outlives the worker and the server.
//
// Terms only grow. A `state` with a lower term means etcd went back in time: restored from an old
// snapshot, or rolled back. Following it would have the node obey a primary and a synchronous set
// that are no longer true (seen: the running primary demoted toward the snapshot's primary, then
// a replica elected in the stale term: every commit that replica had not replayed was lost). So a
// node that has seen a higher term decides nothing on such a state (Agent::iterate).
//
// The one legitimate way down is a cluster initialized again after etcd lost its keys. Whoever
// finds no `initialize` key forgets the term (the worker in its view, the sidecar at its start):
// from then on the node accepts the new cluster's terms. A restored snapshot holds `initialize`,
// so it never clears it.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace pg_ha::agent {

constexpr const char* kHighestTermFile = "pg_ha.highest_term";

// 0 when the file does not exist (nothing seen yet, or cleared by the sidecar).
Result<int64_t> read_highest_term(const std::string& state_dir);
Status write_highest_term(const std::string& state_dir, int64_t term);
// Removes the file; true if there was one.
bool forget_highest_term(const std::string& state_dir);

}  // namespace pg_ha::agent
