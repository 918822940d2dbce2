#include "pg/clock.hpp"

#include <time.h>

namespace pg_ha::pg {

// CLOCK_BOOTTIME (Linux 2.6.39+): CLOCK_MONOTONIC plus the time spent in suspend. A primary
// whose host slept through its lease must find its deadline passed on waking.
int64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t wall_clock_unix_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace pg_ha::pg
