// Fast takeover arithmetic (docs/protocol.md, "Fast takeover"): what a replica may conclude from
// etcd's LeaseTimeToLive answer, and how long the primary's own write gate may stay armed.
// Pure functions of their arguments, so that the unit tests can pin each bound.
#pragma once

#include <cstdint>

#include "core/config.hpp"

namespace pg_ha::core {

// A lower bound, in ms of etcd's clock, on how long etcd has gone without a keep-alive of a lease
// it reports as `granted_s` / `remaining_s` (whole seconds). etcd truncates the remaining time
// (floor); one second off covers a ceiling too, so the silence is never over-estimated. An etcd
// leader change gives leases a full TTL again: the bound then only looks shorter.
int64_t lease_silence_lower_bound_ms(int64_t granted_s, int64_t remaining_s);

// When the next LeaseTimeToLive reading could first show a silence of `need_ms`, after a reading
// sent at `sent_ms` whose lower bound was `silent_ms`: the remaining TTL moves in whole seconds
// (truncated or rounded up, the same bound either way), so earlier readings cannot cross it and
// only cost etcd a request. Half a second early for clock rates and the request's own latency,
// and never sooner than kMinLeaseReadingGapMs after the last one.
constexpr TimeMs kMinLeaseReadingGapMs = 250;
TimeMs next_lease_reading_ms(TimeMs sent_ms, int64_t silent_ms, TimeMs need_ms);

// How long a primary whose write gate lapsed waits before it arms again after an arm that gave it
// no licence (no keep-alive answered in its window): long enough for a replica to see the silence
// and win an election, so that a primary behind a slow etcd link yields instead of flapping.
TimeMs rearm_backoff_ms(const ClusterConfig& config);

}  // namespace pg_ha::core
