// Internal to the codec: typed, checked reads of untrusted gateway JSON. Readers throw
// DecodeFailure, which guarded() (the only entry point) turns into Error{Protocol}; nothing
// else escapes. Keeping the throw inside the codec keeps each decoder short and linear.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kv.hpp"
#include "common/result.hpp"

namespace pg_ha::etcd::codec::detail {

using nlohmann::json;

struct DecodeFailure {
  std::string message;
};

[[noreturn]] void fail(const std::string& message);

// Parses an object; rejects non-JSON, non-objects and nesting deeper than 64 levels.
json parse_object(const std::string& body);

// Optional fields: a missing field is the zero value, as etcd omits zero values.
int64_t read_int(const json& obj, const char* field);
bool read_bool(const json& obj, const char* field);
std::string read_string(const json& obj, const char* field);
std::string read_base64(const json& obj, const char* field);
const json* read_object(const json& obj, const char* field);  // nullptr when missing
const json* read_array(const json& obj, const char* field);   // nullptr when missing
int64_t header_revision(const json& obj);
kv::KeyValue read_kv(const json& obj);
std::vector<kv::KeyValue> read_kvs(const json& obj, const char* field);

// Runs decode, turning any DecodeFailure or library exception into Error{Protocol}
// "malformed <what> response: <reason>" (the client adds which endpoint sent it).
template <class T>
Result<T> guarded(const char* what, const std::function<T()>& decode);

Error malformed(const char* what, const std::string& reason);

template <class T>
Result<T> guarded(const char* what, const std::function<T()>& decode) {
  try {
    return decode();
  } catch (const DecodeFailure& f) {
    return malformed(what, f.message);
  } catch (const std::bad_alloc&) {
    return malformed(what, "out of memory while decoding");
  } catch (const std::exception& e) {
    return malformed(what, e.what());
  } catch (...) {
    return malformed(what, "unknown decoding failure");
  }
}

}  // namespace pg_ha::etcd::codec::detail
