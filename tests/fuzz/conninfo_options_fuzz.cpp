// agent::parse_conninfo_options (pg_ha.replication_conninfo_options and the sidecar's
// replication_conninfo_options) on arbitrary text. Properties: only libpq's TLS and authentication
// keywords get through, and once render_auto_conf has put them into primary_conninfo (quoted for
// conninfo, then for postgresql.conf), PostgreSQL's reading of that line and libpq's parse of the
// conninfo give back exactly the follow target and these options: no option can change the host,
// user or any other keyword.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <libpq-fe.h>

#include "agent/auto_conf.hpp"
#include "common/quoting.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;

namespace {

std::map<std::string, std::string> libpq_parse(const std::string& conninfo) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> opts(PQconninfoParse(conninfo.c_str(), &err), &PQconninfoFree);
  if (err) PQfreemem(err);
  PG_HA_FUZZ_CHECK(opts != nullptr, "libpq refuses the rendered primary_conninfo");
  std::map<std::string, std::string> out;
  for (PQconninfoOption* o = opts.get(); o->keyword; ++o)
    if (o->val) out[o->keyword] = o->val;
  return out;
}

std::string primary_conninfo(const std::string& auto_conf) {
  const std::string prefix = "primary_conninfo = ";
  size_t at = auto_conf.find("\n" + prefix);
  PG_HA_FUZZ_CHECK(at != std::string::npos, "no primary_conninfo line");
  std::string value;
  size_t end = quoting::read_conf_quoted(auto_conf, at + 1 + prefix.size(), &value);
  PG_HA_FUZZ_CHECK(end != std::string::npos && auto_conf[end] == '\n', "primary_conninfo does not read back as one value");
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto options = agent::parse_conninfo_options(fuzz::bytes(data, size));
  if (!options) return 0;
  std::map<std::string, std::string> expected = {
      {"host", "10.0.0.2"}, {"port", "5432"}, {"user", "replicator"}, {"application_name", "n1"},
      {"connect_timeout", "2"}, {"keepalives_idle", "5"}, {"keepalives_interval", "2"}, {"keepalives_count", "3"},
      {"passfile", "/var/lib/postgresql/.pgpass"}};
  const std::map<std::string, std::string> wiring = expected;
  for (const auto& [key, value] : *options) {
    PG_HA_FUZZ_CHECK(wiring.count(key) == 0, "an option overrides a wiring keyword");
    expected[key] = value;   // libpq: the last one wins
  }
  agent::ReplicationSettings replication{"replicator", "/var/lib/postgresql/.pgpass", "n1", *options};
  std::string conf = agent::render_auto_conf(core::FollowTarget{"n2", "10.0.0.2", 5432}, replication, "");
  PG_HA_FUZZ_CHECK(libpq_parse(primary_conninfo(conf)) == expected, "primary_conninfo parses to other options");
  return 0;
}
