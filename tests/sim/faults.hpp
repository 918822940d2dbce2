// Injecting the scenario's faults at their times, and healing everything at heal_at.
#pragma once

namespace pg_ha::sim {

struct World;

void schedule_faults(World& w);
void heal_all(World& w);

}  // namespace pg_ha::sim
