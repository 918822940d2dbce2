#include <cstdint>
#include <optional>
#include <string>

#include "core/types.hpp"
#include "pg/shmem.hpp"
#include "sql_api/snapshot_reader.hpp"
#include "pg/boundary.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {

json load_snapshot() {
  uint64_t sequence = 0;
  std::string text = pg::shmem::read_snapshot(&sequence);   // copied under the lock
  if (sequence == 0)
    throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "pg_ha: the pg_ha worker has not published its status yet",
                       "", "The worker starts with the server; retry in a moment, and check the server log if it persists.");
  json snapshot = json::parse(text, nullptr, false);          // parsed with no lock held
  if (snapshot.is_discarded() || !snapshot.is_object())
    throw pg::SqlError(ERRCODE_INTERNAL_ERROR, "pg_ha: the status published by the worker is not valid JSON");
  return snapshot;
}

std::string str_field(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t int_field(const json& object, const char* key, int64_t fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool bool_field(const json& object, const char* key, bool fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::optional<uint64_t> lsn_field(const json& object, const char* key) {
  core::Lsn lsn = 0;
  std::string text = str_field(object, key);
  if (text.empty() || !core::lsn_from_string(text, &lsn)) return std::nullopt;
  return lsn;
}

const json& object_field(const json& object, const char* key) {
  static const json missing;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : missing;
}

std::optional<int64_t> own_lag_bytes(const json& snapshot, const std::string& live_role) {
  if (live_role == "primary") return 0;
  std::string name = str_field(object_field(snapshot, "node"), "name");
  for (const json& m : snapshot.value("members", json::array())) {
    if (str_field(m, "name") != name) continue;
    auto lag = m.find("lag_bytes");
    if (lag != m.end() && lag->is_number_integer()) return lag->get<int64_t>();
  }
  return std::nullopt;
}

}  // namespace pg_ha::sql_api
