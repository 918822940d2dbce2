// The fence (DESIGN.md §5): in-process refusal of commits and of new client connections on a
// primary whose leadership is not (or no longer) proven.
//
// Writes are refused unless the write deadline in shared memory lies in the future AND the
// postmaster is alive AND the fenced flag is clear; standalone nodes and servers in recovery are
// never fenced (a standby cannot commit anyway).
#pragma once

#include <cstddef>

namespace pg_ha::pg {

// _PG_init: transaction callback, client-authentication hook, utility hook (COMMIT PREPARED, ALTER SYSTEM).
void install_fence_hooks();

// True when this node must refuse commits now; *reason gets why. C-safe (no allocation, no
// exceptions), cheap enough for every commit.
bool writes_refused(char* reason, size_t reason_size);

// Whether this process's postmaster still runs: PostgreSQL's check (death signal, then the
// death pipe) and, in case the death signal never arrived, whether we were re-parented (seen
// here: a worker orphaned by a kill -9 of its postmaster went on for minutes). Always true
// outside a postmaster (single-user mode).
bool postmaster_alive();

// For the worker once fenced: SIGTERM to every client backend except admin-role sessions.
// Walsenders, background workers, autovacuum and the caller are never touched. Returns how many
// were signalled.
int terminate_client_backends();

}  // namespace pg_ha::pg
