// A node's (or etcd's) monotonic clock: local = offset + real * rate, rate within 1 ± drift.
// Real time is the simulator's virtual time; nobody but the checkers may read it.
#pragma once

#include <cmath>
#include <cstdint>

namespace pg_ha::sim {

using TimeMs = int64_t;

struct Clock {
  double rate = 1.0;
  TimeMs offset_ms = 0;

  TimeMs local(TimeMs real_ms) const { return offset_ms + static_cast<TimeMs>(std::floor(real_ms * rate)); }
  // The first real instant at which this clock shows at least `local_ms`.
  TimeMs real_at(TimeMs local_ms) const {
    TimeMs r = static_cast<TimeMs>(std::ceil((local_ms - offset_ms) / rate));
    while (local(r) < local_ms) ++r;
    while (r > 0 && local(r - 1) >= local_ms) --r;
    return r;
  }
};

}  // namespace pg_ha::sim
