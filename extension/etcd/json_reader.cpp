#include "etcd/json_reader.hpp"

#include <charconv>
#include <limits>

#include "etcd/base64.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd::codec::detail {
namespace {

constexpr int kMaxDepth = 64;

// nlohmann's parser and destructor can recurse per nesting level: refuse deep input first.
bool nesting_within_limit(const std::string& body) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string field_name(const char* field) { return std::string("field '") + field + "'"; }

}  // namespace

void fail(const std::string& message) { throw DecodeFailure{message}; }

Error malformed(const char* what, const std::string& reason) {
  return make_error(ErrorKind::Protocol, std::string("malformed ") + what + " response: " + reason);
}

json parse_object(const std::string& body) {
  if (!nesting_within_limit(body)) fail("JSON nested deeper than 64 levels");
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) fail("not valid JSON");
  if (!doc.is_object()) fail("not a JSON object");
  return doc;
}

int64_t read_int(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return 0;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(field_name(field) + " is out of the int64 range");
    }
    return it->get<int64_t>();
  }
  if (!it->is_string()) fail(field_name(field) + " is not an integer");
  const std::string& s = it->get_ref<const std::string&>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) fail(field_name(field) + " is out of the int64 range");
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    fail(field_name(field) + " is not an integer string");
  }
  return value;
}

bool read_bool(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) fail(field_name(field) + " is not a boolean");
  return it->get<bool>();
}

std::string read_string(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) fail(field_name(field) + " is not a string");
  return it->get<std::string>();
}

std::string read_base64(const json& obj, const char* field) {
  auto decoded = base64_decode(read_string(obj, field));
  if (!decoded) fail(field_name(field) + ": " + decoded.error().message);
  return std::move(decoded.value());
}

const json* read_object(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_object()) fail(field_name(field) + " is not an object");
  return &*it;
}

const json* read_array(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_array()) fail(field_name(field) + " is not an array");
  return &*it;
}

int64_t header_revision(const json& obj) {
  const json* header = read_object(obj, "header");
  return header ? read_int(*header, "revision") : 0;
}

kv::KeyValue read_kv(const json& obj) {
  if (!obj.is_object()) fail("a key-value is not an object");
  kv::KeyValue kv;
  kv.key = read_base64(obj, "key");
  kv.value = read_base64(obj, "value");
  kv.create_revision = read_int(obj, "create_revision");
  kv.mod_revision = read_int(obj, "mod_revision");
  kv.version = read_int(obj, "version");
  kv.lease = read_int(obj, "lease");
  return kv;
}

std::vector<kv::KeyValue> read_kvs(const json& obj, const char* field) {
  std::vector<kv::KeyValue> out;
  const json* arr = read_array(obj, field);
  if (!arr) return out;
  out.reserve(arr->size());
  for (const json& item : *arr) out.push_back(read_kv(item));
  return out;
}

}  // namespace pg_ha::etcd::codec::detail
