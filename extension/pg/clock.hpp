// Clocks for the glue. The fence deadline is on CLOCK_BOOTTIME in milliseconds: one clock shared
// by every process on the host (the worker stamps keep-alive send times and publishes the deadline
// on it, every backend checks commits against it), immune to wall-clock steps, and, unlike
// CLOCK_MONOTONIC, it keeps counting while the system is suspended. After a resume the deadline
// has therefore passed if etcd could have expired the lease meanwhile (docs/protocol.md, "Clocks").
#pragma once

#include <cstdint>

namespace pg_ha::pg {

int64_t monotonic_ms();         // CLOCK_BOOTTIME: monotonic, counts suspend
int64_t wall_clock_unix_ms();   // for display only (history, snapshot timestamps)

}  // namespace pg_ha::pg
