// What happens to a node's PostgreSQL: start, stop, crash, promote, streaming replication.
#pragma once

#include <string>

namespace pg_ha::sim {

struct World;

void pg_start(World& w, int n, bool in_recovery, const std::string& why);
void pg_stop(World& w, int n, const std::string& why);
void pg_crash(World& w, int n);                 // the postmaster dies; the sidecar reacts
void pg_promote(World& w, int n);               // pg_promote(): completes after a short delay
void pg_follow(World& w, int n, const std::string& upstream);
void replication_tick(World& w);                // every standby catches up with its upstream

}  // namespace pg_ha::sim
