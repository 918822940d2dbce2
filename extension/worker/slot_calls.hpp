// Physical replication slots, handled by the worker itself through PostgreSQL's slot API in
// shared memory (docs/operations.md, "Replication slots", says why here and not in the sidecar).
// Each call is C++-safe: PostgreSQL errors arrive as Status, after the cleanup PostgreSQL's own
// abort path would have done (locks released, no slot left acquired).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "core/slots.hpp"

namespace pg_ha::worker {

// Every slot in shared memory; nullopt while slots cannot be handled (no slots configured, or a
// standby that is not yet a hot standby and may still be loading its slots from disk).
std::optional<std::vector<core::ExistingSlot>> list_slots();
Status create_physical_slot(const std::string& name);   // WAL reserved at once
Status drop_slot(const std::string& name);              // fails if something streams from it
Status advance_physical_slot(const std::string& name, core::Lsn to);

}  // namespace pg_ha::worker
