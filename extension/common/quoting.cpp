#include "common/quoting.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::quoting {

std::string conf_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    switch (c) {
      case '\0': break;
      case '\'': out += "''"; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "'";
}

namespace {

// One backslash escape as GUC_scanstr decodes it; i is at the backslash, returns the last index used.
size_t unescape(const std::string& t, size_t i, std::string* out) {
  char c = t[i + 1];
  switch (c) {
    case 'b': out->push_back('\b'); return i + 1;
    case 'f': out->push_back('\f'); return i + 1;
    case 'n': out->push_back('\n'); return i + 1;
    case 'r': out->push_back('\r'); return i + 1;
    case 't': out->push_back('\t'); return i + 1;
    default: break;
  }
  if (c < '0' || c > '7') {
    out->push_back(c);
    return i + 1;
  }
  int oct = 0;
  size_t k = 0;
  while (k < 3 && i + 1 + k < t.size() && t[i + 1 + k] >= '0' && t[i + 1 + k] <= '7') oct = (oct << 3) + (t[i + 1 + k++] - '0');
  out->push_back(static_cast<char>(oct));
  return i + k;
}

}  // namespace

size_t read_conf_quoted(const std::string& text, size_t pos, std::string* out) {
  if (pos >= text.size() || text[pos] != '\'') return std::string::npos;
  for (size_t i = pos + 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') return std::string::npos;   // the lexer's strings never span lines
    if (c == '\\') {
      if (i + 1 >= text.size() || text[i + 1] == '\n') return std::string::npos;
      i = unescape(text, i, out);
    } else if (c == '\'') {
      if (i + 1 < text.size() && text[i + 1] == '\'') {
        out->push_back('\'');
        ++i;
      } else {
        return i + 1;
      }
    } else {
      out->push_back(c);
    }
  }
  return std::string::npos;
}

std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\0') continue;
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace pg_ha::quoting
