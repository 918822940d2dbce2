#include "core/hba.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <set>

#include "common/no_postgres.hpp"

namespace pg_ha::core {
namespace {

// One token of a field; a field is a comma-separated list of tokens ("db1,\"db 2\"").
struct Token {
  std::string text;
  bool quoted = false;
};
using Field = std::vector<Token>;

Error bad(const std::string& line, const std::string& why) {
  return make_error(ErrorKind::Invalid, "pg_hba rule \"" + line + "\": " + why);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Splits the line into fields the way PostgreSQL does: blanks separate fields, a comma after a
// token continues the field with the next token, double quotes keep blanks, commas and '#'.
Result<std::vector<Field>> split_fields(const std::string& line) {
  std::vector<Field> fields;
  size_t i = 0;
  bool continues = false;
  while (true) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i >= line.size()) break;
    if (line[i] == '#') return bad(line, "comments are not rules");
    Token t;
    bool in_quotes = false;
    while (i < line.size() && (in_quotes || (!is_blank(line[i]) && line[i] != ','))) {
      char c = line[i++];
      if (c == '"') {
        if (in_quotes && i < line.size() && line[i] == '"') { t.text += '"'; ++i; continue; }
        in_quotes = !in_quotes;
        t.quoted = true;
      } else if (c == '#' && !in_quotes) {
        return bad(line, "comments are not rules");
      } else {
        t.text += c;
      }
    }
    if (in_quotes) return bad(line, "unterminated quote");
    if (t.text.empty() && !t.quoted) return bad(line, "empty entry in a list");
    if (continues) fields.back().push_back(t);
    else fields.push_back(Field{t});
    continues = i < line.size() && line[i] == ',';
    if (continues) ++i;
  }
  if (continues) return bad(line, "a list ends with a comma");
  return fields;
}

const std::set<std::string>& connection_types() {
  static const std::set<std::string> types = {"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"};
  return types;
}

// PostgreSQL 15's authentication methods (src/backend/libpq/hba.c).
const std::set<std::string>& methods() {
  static const std::set<std::string> names = {"trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi",
                                              "ident", "peer", "ldap", "radius", "cert", "pam", "bsd"};
  return names;
}

bool single_word(const Field& f) { return f.size() == 1 && !f[0].quoted; }

// Database and user lists: names or keywords; @file would read another file into the rules.
Status check_names(const std::string& line, const Field& f, const char* what) {
  for (const Token& t : f) {
    if (t.text.empty()) return bad(line, std::string("empty ") + what + " name");
    if (!t.quoted && t.text[0] == '@') return bad(line, std::string(what) + " \"" + t.text + "\": @file references are not allowed");
  }
  return ok_status();
}

bool parses_as_ip(const std::string& s, int* family) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) { *family = AF_INET; return true; }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) { *family = AF_INET6; return true; }
  return false;
}

bool cidr_ok(const std::string& s) {
  size_t slash = s.find('/');
  int family = 0;
  if (!parses_as_ip(s.substr(0, slash), &family)) return false;
  std::string bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  for (char c : bits) if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return std::stoi(bits) <= (family == AF_INET ? 32 : 128);
}

bool host_name_ok(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  return true;
}

// The address of a host rule; consumes a separate mask field after a bare IP address.
Status check_address(const std::string& line, const std::vector<Field>& fields, size_t* next) {
  if (*next >= fields.size()) return bad(line, "missing address");
  const Field& f = fields[(*next)++];
  if (f.size() != 1) return bad(line, "the address must be a single entry");
  const std::string& a = f[0].text;
  if (!f[0].quoted && (a == "all" || a == "samehost" || a == "samenet")) return ok_status();
  if (a.find('/') != std::string::npos) {
    if (!cidr_ok(a)) return bad(line, "\"" + a + "\" is not a valid address/prefix (CIDR)");
    return ok_status();
  }
  int family = 0, mask_family = 0;
  if (parses_as_ip(a, &family)) {
    if (*next >= fields.size() || fields[*next].size() != 1 || !parses_as_ip(fields[*next][0].text, &mask_family) ||
        mask_family != family)
      return bad(line, "the IP address \"" + a + "\" needs a /prefix or a netmask of the same family");
    ++*next;
    return ok_status();
  }
  if (!host_name_ok(a)) return bad(line, "\"" + a + "\" is not an IP address, CIDR or host name");
  return ok_status();
}

Status check_method(const std::string& line, const std::string& type, const Field& f) {
  if (!single_word(f) || !methods().count(f[0].text))
    return bad(line, "unknown authentication method \"" + f[0].text + "\"");
  const std::string& m = f[0].text;
  if (m == "peer" && type != "local") return bad(line, "peer authentication is only supported on local sockets");
  if (m == "cert" && type != "hostssl") return bad(line, "cert authentication is only supported on hostssl connections");
  if ((m == "gss" || m == "sspi") && type == "local")
    return bad(line, m + " authentication is not supported on local sockets");
  return ok_status();
}

Status check_option(const std::string& line, const Field& f) {
  if (f.size() != 1) return bad(line, "an option must be a single key=value");
  const std::string& o = f[0].text;
  size_t eq = o.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == o.size())
    return bad(line, "option \"" + o + "\" is not key=value");
  for (size_t i = 0; i < eq; ++i)
    if (!std::islower(static_cast<unsigned char>(o[i])) && o[i] != '_') return bad(line, "option \"" + o + "\" has a bad key");
  return ok_status();
}

}  // namespace

Status validate_hba_line(const std::string& line) {
  if (line.size() > kMaxHbaLineLength)
    return make_error(ErrorKind::Invalid, "pg_hba rule \"" + line.substr(0, 60) + "...\" is longer than " +
                                              std::to_string(kMaxHbaLineLength) + " characters");
  for (char c : line)
    if (c == '\n' || c == '\r' || c == '\0') return bad(line, "a rule must be one line without newlines or NUL");
  if (!line.empty() && line.back() == '\\') return bad(line, "continuation lines are not allowed");
  auto parsed = split_fields(line);
  if (!parsed) return parsed.error();
  const std::vector<Field>& fields = *parsed;
  if (fields.empty()) return bad(line, "empty rule");
  const std::string& type = fields[0][0].text;
  if (type.rfind("include", 0) == 0) return bad(line, "include directives are not allowed");
  if (!single_word(fields[0]) || !connection_types().count(type)) return bad(line, "unknown connection type \"" + type + "\"");
  if (fields.size() < 3) return bad(line, "a rule needs a database, a user and a method");
  if (Status s = check_names(line, fields[1], "database"); !s) return s;
  if (Status s = check_names(line, fields[2], "user"); !s) return s;
  size_t next = 3;
  if (type != "local")
    if (Status s = check_address(line, fields, &next); !s) return s;
  if (next >= fields.size()) return bad(line, "missing authentication method");
  if (Status s = check_method(line, type, fields[next]); !s) return s;
  for (size_t i = next + 1; i < fields.size(); ++i)
    if (Status s = check_option(line, fields[i]); !s) return s;
  return ok_status();
}

Status validate_hba_rules(const std::vector<std::string>& rules) {
  if (rules.size() > kMaxHbaRules)
    return make_error(ErrorKind::Invalid, "postgresql.pg_hba has " + std::to_string(rules.size()) + " rules, at most " +
                                              std::to_string(kMaxHbaRules) + " are allowed");
  for (const std::string& r : rules)
    if (Status s = validate_hba_line(r); !s) return s;
  return ok_status();
}

bool valid_cidr(const std::string& text) { return text.find('/') != std::string::npos && cidr_ok(text); }

std::string render_cluster_hba_section(const std::vector<std::string>& rules) {
  std::string out = std::string(kHbaBeginMarker) + "\n";
  for (const std::string& r : rules) out += r + "\n";
  return out + kHbaEndMarker + "\n";
}

namespace {

struct Section {
  size_t begin = 0;   // offset of the begin marker line
  size_t end = 0;     // offset just past the end marker line
  std::vector<std::string> rules;
};

std::optional<Section> find_section(const std::string& file) {
  Section s;
  bool inside = false;
  size_t pos = 0;
  while (pos < file.size()) {
    size_t nl = file.find('\n', pos);
    size_t stop = nl == std::string::npos ? file.size() : nl + 1;
    std::string line = file.substr(pos, (nl == std::string::npos ? file.size() : nl) - pos);
    if (!inside && line == kHbaBeginMarker) {
      inside = true;
      s.begin = pos;
    } else if (inside && line == kHbaEndMarker) {
      s.end = stop;
      return s;
    } else if (inside) {
      s.rules.push_back(line);
    }
    pos = stop;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> replace_cluster_hba_section(const std::string& file, const std::vector<std::string>& rules) {
  auto s = find_section(file);
  if (!s) return std::nullopt;
  return file.substr(0, s->begin) + render_cluster_hba_section(rules) + file.substr(s->end);
}

std::optional<std::vector<std::string>> cluster_hba_rules(const std::string& file) {
  auto s = find_section(file);
  if (!s) return std::nullopt;
  return s->rules;
}

}  // namespace pg_ha::core
