// What happens to a node's PostgreSQL: start, stop, crash, promote, streaming replication.
#pragma once

#include <string>

namespace pg_ha::sim {

struct World;

void pg_start(World& w, int n, bool in_recovery, const std::string& why);
// lease_kept: the worker dies without revoking its lease (a crash, or a restart by the sidecar,
// which keeps it on purpose); otherwise the real worker revokes it on the way out.
void pg_stop(World& w, int n, const std::string& why, bool lease_kept = false);
void pg_crash(World& w, int n);                 // the postmaster dies; the sidecar reacts
void pg_promote(World& w, int n);               // pg_promote(): completes after a short delay
void pg_follow(World& w, int n, const std::string& upstream, const std::string& host);
void replication_tick(World& w);                // every standby catches up with its upstream

}  // namespace pg_ha::sim
