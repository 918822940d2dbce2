#include "core/json_fields.hpp"

#include "core/schema.hpp"
#include "core/types.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::json_fields {

namespace {
constexpr size_t kMaxRecordBytes = 1 << 20;

Error wrong(const char* field, const char* expected) {
  return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must be " + expected);
}
}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<json> parse_object(const std::string& text, const char* what) {
  if (text.size() > kMaxRecordBytes) {
    return make_error(ErrorKind::Protocol, std::string(what) + ": record larger than 1 MiB");
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorKind::Protocol, std::string(what) + ": not valid JSON");
  if (!j.is_object()) return make_error(ErrorKind::Protocol, std::string(what) + ": not a JSON object");
  return j;
}

Status read(const json& obj, const char* field, std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_string()) return wrong(field, "a string");
  *out = it->get<std::string>();
  return ok_status();
}

Status read(const json& obj, const char* field, bool* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_boolean()) return wrong(field, "true or false");
  *out = it->get<bool>();
  return ok_status();
}

Status read(const json& obj, const char* field, int64_t* out, int64_t min, int64_t max) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_number_integer()) return wrong(field, "an integer");
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return wrong(field, "an integer in range");
    v = static_cast<int64_t>(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < min || v > max) {
    return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must be between " +
                                               std::to_string(min) + " and " + std::to_string(max));
  }
  *out = v;
  return ok_status();
}

Status read(const json& obj, const char* field, int* out, int64_t min, int64_t max) {
  int64_t v = *out;
  Status s = read(obj, field, &v, min, max);
  if (s.ok()) *out = static_cast<int>(v);
  return s;
}

Status read(const json& obj, const char* field, uint32_t* out) {
  int64_t v = *out;
  Status s = read(obj, field, &v, 0, UINT32_MAX);
  if (s.ok()) *out = static_cast<uint32_t>(v);
  return s;
}

Status read(const json& obj, const char* field, double* out, double min, double max) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_number()) return wrong(field, "a number");
  double v = it->get<double>();
  if (!(v >= min && v <= max)) {
    return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must be between " +
                                               std::to_string(min) + " and " + std::to_string(max));
  }
  *out = v;
  return ok_status();
}

Status read_lsn(const json& obj, const char* field, uint64_t* out) {
  std::string text;
  Status s = read(obj, field, &text);
  if (!s.ok() || text.empty()) return s;
  if (!lsn_from_string(text, out)) return wrong(field, "an LSN like 0/3000148");
  return ok_status();
}

Status check_version(const json& obj, const char* what) {
  int64_t version = -1;
  Status s = read(obj, "version", &version, 0, INT32_MAX);
  if (!s.ok()) return make_error(ErrorKind::Protocol, std::string(what) + ": " + s.error().message);
  if (version < 0) return make_error(ErrorKind::Protocol, std::string(what) + ": no \"version\" field");
  if (version > kSchemaVersion) {
    return make_error(ErrorKind::Protocol, std::string(what) + ": written by a newer pg_ha (schema version " +
                                               std::to_string(version) + ")");
  }
  return ok_status();
}

}  // namespace pg_ha::core::json_fields
