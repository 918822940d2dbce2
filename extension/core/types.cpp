#include "core/types.hpp"

#include <cstdio>
#include <cstdlib>

#include "common/no_postgres.hpp"

namespace pg_ha::core {

std::string lsn_to_string(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn));
  return buf;
}

static bool parse_hex32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 8) return false;
  uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

bool lsn_from_string(const std::string& text, Lsn* out) {
  size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  uint32_t hi = 0, lo = 0;
  if (!parse_hex32(text.substr(0, slash), &hi) || !parse_hex32(text.substr(slash + 1), &lo)) return false;
  *out = (static_cast<Lsn>(hi) << 32) | lo;
  return true;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::Primary: return "primary";
    case Role::Replica: return "replica";
    case Role::Unknown: return "unknown";
  }
  return "unknown";
}

Role role_from_name(const std::string& name) {
  if (name == "primary") return Role::Primary;
  if (name == "replica") return Role::Replica;
  return Role::Unknown;
}

}  // namespace pg_ha::core
