// What the worker does to its own PostgreSQL, in-process, without waiting on it: each action
// returns at once and the next observation shows its effect. (pg_ha.auto.conf and the sidecar
// channel are written by the agent, extension/agent.)
#pragma once

#include "common/result.hpp"

namespace pg_ha::worker {

// Like pg_promote(wait => false): creates the promote signal file and signals the postmaster.
// A no-op (ok) when the server is not in recovery any more.
Status request_promote();

// Asks the postmaster to reload its configuration (it re-reads pg_ha.auto.conf too).
Status reload_postgres();

}  // namespace pg_ha::worker
