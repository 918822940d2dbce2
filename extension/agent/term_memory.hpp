// The highest term this node has seen in etcd's `state`, with the system identifier of the cluster
// it belongs to, kept in <state_dir>/pg_ha.highest_term so that it outlives the worker and the
// server.
//
// Terms only grow. A `state` with a lower term in the same cluster means etcd went back in time:
// restored from an old snapshot, or rolled back. Following it would have the node obey a primary
// and a synchronous set that are no longer true (seen: the running primary demoted toward the
// snapshot's primary, then a replica elected in the stale term: every commit that replica had not
// replayed was lost). So a node that has seen a higher term decides nothing on such a state
// (Agent::state_older_than_seen).
//
// Two legitimate ways down:
// - a cluster built anew (initdb: another system identifier): the memory starts over;
// - the same cluster initialized again after etcd lost its keys. Whoever finds no `initialize` key
//   forgets the term (the worker in its view, the sidecar at its start). A restored snapshot holds
//   `initialize`, so it never clears it.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace pg_ha::agent {

constexpr const char* kHighestTermFile = "pg_ha.highest_term";

struct TermSeen {
  int64_t term = 0;                 // 0: nothing seen (no file)
  std::string system_identifier;    // the cluster's, from `initialize`
};

Result<TermSeen> read_highest_term(const std::string& state_dir);
Status write_highest_term(const std::string& state_dir, const TermSeen& seen);
// Removes the file; true if there was one.
bool forget_highest_term(const std::string& state_dir);

}  // namespace pg_ha::agent
