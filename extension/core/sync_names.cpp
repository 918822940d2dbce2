#include "core/sync_names.hpp"

#include <algorithm>
#include <cctype>

#include "core/canaries.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

std::string format_sync_names(const SyncNames& s) {
  if (s.quorum <= 0 || s.names.empty()) return "";
  std::string out = "ANY " + std::to_string(s.quorum) + " (";
  for (size_t i = 0; i < s.names.size(); ++i) {
    if (i) out += ", ";
    out += "\"" + s.names[i] + "\"";
  }
  return out + ")";
}

namespace {

struct Scanner {
  const std::string& t;
  size_t i = 0;
  void skip() { while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i; }
  bool word(std::string* out) {
    skip();
    size_t start = i;
    if (i < t.size() && t[i] == '"') {
      size_t end = t.find('"', i + 1);
      if (end == std::string::npos) return false;
      *out = t.substr(i + 1, end - i - 1);
      i = end + 1;
      return true;
    }
    while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_' || t[i] == '-' || t[i] == '.')) ++i;
    *out = t.substr(start, i - start);
    return i > start;
  }
  bool punct(char c) {
    skip();
    if (i < t.size() && t[i] == c) { ++i; return true; }
    return false;
  }
  bool done() { skip(); return i == t.size(); }
};

}  // namespace

bool parse_sync_names(const std::string& text, SyncNames* out) {
  Scanner s{text};
  if (s.done()) {
    *out = SyncNames{};
    return true;
  }
  std::string kind, count;
  if (!s.word(&kind) || !s.word(&count)) return false;
  for (char& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if ((kind != "ANY" && kind != "FIRST") || count.empty() || count.size() > 3 ||
      !std::all_of(count.begin(), count.end(), ::isdigit) || !s.punct('(')) {
    return false;
  }
  SyncNames r;
  r.quorum = std::stoi(count);
  do {
    std::string name;
    if (!s.word(&name)) return false;
    r.names.push_back(name);
  } while (s.punct(','));
  if (!s.punct(')') || !s.done()) return false;
  if (kind == "FIRST" && static_cast<size_t>(r.quorum) != r.names.size()) return false;
  std::sort(r.names.begin(), r.names.end());
  *out = r;
  return true;
}

std::string standby_application_name(const std::string& name, const std::string& member_id) {
  if (member_id.empty() || canaries().name_only_standbys) return name;
  return name + "@" + member_id.substr(0, kIdentityPrefix);
}

StandbyName parse_standby_application_name(const std::string& application_name) {
  size_t at = application_name.rfind('@');
  if (at == std::string::npos) return StandbyName{application_name, ""};
  return StandbyName{application_name.substr(0, at), application_name.substr(at + 1)};
}

bool same_identity(const std::string& prefix, const std::string& member_id) {
  if (canaries().name_only_standbys) return true;
  return prefix == member_id.substr(0, kIdentityPrefix);
}

}  // namespace pg_ha::core
