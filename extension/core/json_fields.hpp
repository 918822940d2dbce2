// Typed, bounded access to JSON fields for the record codecs: a wrong type or an out-of-range
// value becomes an error naming the field, never an exception escaping to a caller.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace pg_ha::core::json_fields {

using nlohmann::json;

// Parses text into an object; anything else (array, number, bad syntax, > 1 MiB) is an error.
Result<json> parse_object(const std::string& text, const char* what);

// Each reader leaves *out untouched when the field is absent and returns an error when present
// with the wrong type or range.
Status read(const json& obj, const char* field, std::string* out);
Status read(const json& obj, const char* field, bool* out);
Status read(const json& obj, const char* field, int* out, int64_t min, int64_t max);
Status read(const json& obj, const char* field, int64_t* out, int64_t min, int64_t max);
Status read(const json& obj, const char* field, uint32_t* out);
Status read(const json& obj, const char* field, double* out, double min, double max);
// An LSN as PostgreSQL prints it ("0/3000148").
Status read_lsn(const json& obj, const char* field, uint64_t* out);

// Serializes a record. Text from the outside (an error message, a name) may hold bytes that are
// not UTF-8: they become U+FFFD instead of an exception.
std::string dump(const json& j);

// Checks the record's "version": absent or newer than we understand is an error.
Status check_version(const json& obj, const char* what);

}  // namespace pg_ha::core::json_fields
