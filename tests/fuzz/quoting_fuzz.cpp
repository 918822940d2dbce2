// Quoting for postgresql.conf and for libpq conninfo strings (common/quoting.cpp) on arbitrary
// bytes. Properties:
//   - conf_value(x) is one line (no raw newline or carriage return) and read_conf_quoted reads it
//     back as x without its NUL bytes (the documented drop), ending exactly at its end;
//   - conninfo_value(x) after a keyword, parsed by libpq's own PQconninfoParse, gives x without
//     NULs, and cannot add a keyword; nested inside conf_value (primary_conninfo) it survives both;
//   - read_conf_quoted on arbitrary text never reads past it.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <libpq-fe.h>

#include "common/quoting.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;

namespace {

std::string without_nul(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
  return s;
}

// The value libpq gives `keyword` in `conninfo` and how many keywords are set; false when libpq
// refuses the string.
bool libpq_value(const std::string& conninfo, const char* keyword, std::string* out, int* options) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(conninfo.c_str(), &err), &PQconninfoFree);
  if (err) PQfreemem(err);
  if (!opts) return false;
  *options = 0;
  for (PQconninfoOption* o = opts.get(); o->keyword; ++o) {
    if (!o->val) continue;
    ++*options;
    if (std::string(o->keyword) == keyword) *out = o->val;
  }
  return true;
}

void conf_round_trip(const std::string& x) {
  std::string q = quoting::conf_value(x);
  PG_HA_FUZZ_CHECK(q.find('\n') == std::string::npos && q.find('\r') == std::string::npos, "conf_value spans lines");
  std::string back;
  PG_HA_FUZZ_CHECK(quoting::read_conf_quoted(q, 0, &back) == q.size(), "conf_value does not read back to its end");
  PG_HA_FUZZ_CHECK(back == without_nul(x), "conf_value does not read back as its input");
}

void conninfo_round_trip(const std::string& x) {
  std::string conninfo = "host=" + quoting::conninfo_value(x) + " port=5432";
  std::string host;
  int options = 0;
  PG_HA_FUZZ_CHECK(libpq_value(conninfo, "host", &host, &options), "libpq refuses a quoted conninfo value");
  PG_HA_FUZZ_CHECK(host == without_nul(x), "libpq reads a different host back");
  PG_HA_FUZZ_CHECK(options == 2, "a quoted value added or removed a conninfo keyword");
  // primary_conninfo: the conninfo, itself quoted for postgresql.conf.
  std::string read;
  std::string line = quoting::conf_value(conninfo);
  PG_HA_FUZZ_CHECK(quoting::read_conf_quoted(line, 0, &read) == line.size() && read == conninfo, "nested quoting lost bytes");
}

void read_arbitrary(const std::string& text) {
  for (size_t pos = 0; pos < text.size() && pos < 64; ++pos) {
    if (text[pos] != '\'') continue;
    std::string out;
    size_t end = quoting::read_conf_quoted(text, pos, &out);
    PG_HA_FUZZ_CHECK(end == std::string::npos || (end > pos && end <= text.size()), "read_conf_quoted ends outside the text");
    PG_HA_FUZZ_CHECK(out.size() <= text.size(), "read_conf_quoted made bytes up");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string x = fuzz::bytes(data, size);
  conf_round_trip(x);
  conninfo_round_trip(x);
  read_arbitrary(x);
  return 0;
}
