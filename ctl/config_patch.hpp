// The pure half of `pg_hactl edit-config`: turning `--set key=value` / `--pg name=value` into a
// JSON merge patch (RFC 7396, what pg_ha.set_config() takes), the merge patch between two
// documents (after $EDITOR), and a line diff of the pretty-printed JSON shown before applying.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace pg_ha::ctl {

using json = nlohmann::json;

// "ttl=10", "postgresql.parameters.work_mem=8MB", "synchronous_mode=on", "maximum_lag_on_failover=null".
// A dotted key is a path into nested objects. The value is JSON when it parses as JSON (10, true,
// null, "text", {...}), otherwise the text itself: 8MB and on stay strings. `null` removes the key.
// `pg_parameters` are the same with the path postgresql.parameters.<name>.
Result<json> patch_from_assignments(const std::vector<std::string>& sets, const std::vector<std::string>& pg_parameters);

// The merge patch that turns `from` into `to`: changed and added keys with their new value,
// removed keys as null, nested objects recursively. Empty when nothing changed.
json merge_patch_between(const json& from, const json& to);

// `from` with `patch` merged in (RFC 7396), without touching `from`.
json apply_merge_patch(const json& from, const json& patch);

// A unified-style line diff: " " unchanged, "-" removed, "+" added, hunks of changes with
// `context` unchanged lines around them and "@@" between hunks. Empty when the texts are equal.
std::string line_diff(const std::string& before, const std::string& after, int context = 3);

}  // namespace pg_ha::ctl
