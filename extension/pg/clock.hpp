// Clocks for the glue. The fence deadline is on CLOCK_MONOTONIC in milliseconds: one clock shared
// by every process on the host, immune to wall-clock steps.
#pragma once

#include <cstdint>

namespace pg_ha::pg {

int64_t monotonic_ms();
int64_t wall_clock_unix_ms();   // for display only (history, snapshot timestamps)

}  // namespace pg_ha::pg
