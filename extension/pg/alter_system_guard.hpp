// ALTER SYSTEM writes postgresql.auto.conf, which PostgreSQL reads after every other file: a
// value there overrides what pg_ha decides or wires per node. Refused (with where to change it
// instead), for
// - the worker's parameters (agent::kAutoConfParameters: upstream, slot, synchronous standbys) on
//   a node pg_ha manages: the worker rewrites them as the cluster changes, and an override
//   fenced the primary with no way out, or pointed a standby at a stale upstream;
// - a parameter set on the postmaster's command line (pg_ha_sidecar's wiring, sidecar/wiring.hpp):
//   the command line wins over the file, so the ALTER SYSTEM would silently do nothing.
// RESET is always allowed: it is how an override left from earlier is removed.
#pragma once

extern "C" {
struct Node;
}

namespace pg_ha::pg {

// Called by the utility hook for every statement; ereports ERROR on a refused ALTER SYSTEM SET.
// C-safe: owns no C++ objects, so the ereport may leave it directly.
void refuse_alter_system_of_managed_parameter(Node* stmt);

}  // namespace pg_ha::pg
