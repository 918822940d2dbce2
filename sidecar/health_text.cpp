// The text side of the health answers, free of libpq: `?lag=` values and JSON that never throws.
// The HTTP request handling (http_request.cpp) needs only these, so tests/fuzz links it alone.
#include "health.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {

using json = nlohmann::json;

std::string safe_dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<int64_t> parse_lag(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) return make_error(ErrorKind::Invalid, "lag must be a number of bytes, optionally with a unit (16MB), not `" + text + "`");
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit;
  for (size_t j = i; j < text.size(); ++j)
    if (text[j] != ' ') unit.push_back(static_cast<char>(tolower(static_cast<unsigned char>(text[j]))));
  int shift = -1;
  if (unit.empty() || unit == "b") shift = 0;
  else if (unit == "kb" || unit == "k") shift = 10;
  else if (unit == "mb" || unit == "m") shift = 20;
  else if (unit == "gb" || unit == "g") shift = 30;
  else if (unit == "tb" || unit == "t") shift = 40;
  if (shift < 0) return make_error(ErrorKind::Invalid, "unknown lag unit `" + text.substr(i) + "` (use B, kB, MB, GB or TB)");
  if (n > (INT64_MAX >> shift)) return make_error(ErrorKind::Invalid, "lag `" + text + "` is too large");
  return n << shift;
}

}  // namespace pg_ha::sidecar
