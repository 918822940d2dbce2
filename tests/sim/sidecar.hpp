// The sidecar model: carries out the worker's requests (demote, rewind, re-clone, restart,
// release the lease) after a delay, and restarts a crashed postmaster under the
// primary_start_timeout policy.
#pragma once

#include <optional>
#include <string>

#include "core/decision.hpp"

namespace pg_ha::sim {

struct World;

void sidecar_request(World& w, int n, const std::optional<core::SidecarRequest>& r);
void sidecar_poll(World& w, int n);
void sidecar_on_crash(World& w, int n, bool was_primary);
void sidecar_release_lease(World& w, int n, int64_t lease);
// The sidecar starts (machine restart): postgres starts, once no revoke is in flight.
void sidecar_start(World& w, int n, const std::string& why);

}  // namespace pg_ha::sim
