// The SQL side of the status snapshot: copy it out of shared memory under the lock, parse it
// after the lock is released, and read fields with defaults (format: docs/sql-api.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace pg_ha::sql_api {

using json = nlohmann::json;

// The parsed snapshot (format: extension/agent/snapshot.hpp). Raises a clear SQL error when the worker has not published one yet.
json load_snapshot();

std::string str_field(const json& object, const char* key);
int64_t int_field(const json& object, const char* key, int64_t fallback = 0);
bool bool_field(const json& object, const char* key, bool fallback = false);
std::optional<uint64_t> lsn_field(const json& object, const char* key);
const json& object_field(const json& object, const char* key);   // a null json when missing

// This node's lag behind the primary as published for it in the member list (0 on a primary),
// if known.
std::optional<int64_t> own_lag_bytes(const json& snapshot, const std::string& live_role);

}  // namespace pg_ha::sql_api
