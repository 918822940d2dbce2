#include "core/takeover.hpp"

#include <algorithm>

#include "core/canaries.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

int64_t lease_silence_lower_bound_ms(int64_t granted_s, int64_t remaining_s) {
  if (canaries().no_silence_margin) return (granted_s - remaining_s) * 1000;
  return (granted_s - remaining_s - 1) * 1000;
}

TimeMs next_lease_reading_ms(TimeMs sent_ms, int64_t silent_ms, TimeMs need_ms) {
  TimeMs need_whole_s = (need_ms + 999) / 1000 * 1000;
  TimeMs earliest = sent_ms + need_whole_s - silent_ms - 1000 - 500;
  return std::max(earliest, sent_ms + kMinLeaseReadingGapMs);
}

TimeMs rearm_backoff_ms(const ClusterConfig& c) {
  // The arm window itself, the silence a replica needs, one second of TTL rounding, the election
  // wait and a few loops for the reading, the reports and the takeover transaction; but never
  // longer than the lease's usable window: a primary that nobody could replace (no eligible
  // replica) must be writable again within the liveness bound (about ttl), as without fast takeover.
  TimeMs wanted = c.fence_after_ms + takeover_silence_ms(c) + 1000 + c.election_wait_ms + 3 * c.loop_wait_ms;
  TimeMs lease_ms = static_cast<TimeMs>(c.ttl_s * 1000.0 * (1.0 - c.max_clock_drift) / (1.0 + c.max_clock_drift)) -
                    c.fence_margin_ms;
  return std::max<TimeMs>(c.fence_after_ms + c.loop_wait_ms, std::min(wanted, lease_ms));
}

}  // namespace pg_ha::core
