// Injecting the scenario's faults at their times, and healing everything at heal_at.
#pragma once

namespace pg_ha::sim {

struct World;

void schedule_faults(World& w);
void heal_all(World& w);
// A suspended machine wakes up (faults.cpp: suspend).
void resume(World& w, int n);

}  // namespace pg_ha::sim
