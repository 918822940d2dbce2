// The member record's JSON, written directly: every node encodes its heartbeat on every step, and
// building an nlohmann::json object for it (18 keys, a map of allocations) was the simulator's
// hottest spot. The bytes are exactly those of json_fields::dump of the same object (keys in
// nlohmann's sorted order); a string that needs escaping or is not plain ASCII goes through
// nlohmann itself, so escaping and U+FFFD replacement stay nlohmann's. tests/unit pins the
// equality for random records.
#pragma once

#include <string>

#include "core/schema.hpp"

namespace pg_ha::core {

std::string member_json(const MemberRecord& r);

}  // namespace pg_ha::core
