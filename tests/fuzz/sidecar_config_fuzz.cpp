// The sidecar's configuration file (sidecar/config.cpp: parse_config_text, apply_config_key,
// validate_config) on arbitrary text. Properties: no crash; a file that parses, written back with
// every value quoted by quoting::conf_value, parses to the same keys and values (values without
// NUL bytes, which conf_value drops); a config that validates has a valid node name and connect
// host and replication options libpq-safe by parse_conninfo_options.
#include <cstdint>
#include <map>
#include <string>

#include "agent/auto_conf.hpp"
#include "common/quoting.hpp"
#include "config.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pairs = parse_config_text(fuzz::bytes(data, size), "fuzz.conf");
  if (!pairs) return 0;
  std::string rewritten;
  bool has_nul = false;
  for (const auto& [key, value] : *pairs) {
    rewritten += key + " = " + quoting::conf_value(value) + "  # written back\n";
    has_nul = has_nul || value.find('\0') != std::string::npos;
  }
  auto again = parse_config_text(rewritten, "rewritten.conf");
  PG_HA_FUZZ_CHECK(again.ok(), "a config written back with conf_value does not parse");
  PG_HA_FUZZ_CHECK(has_nul || *again == *pairs, "a config written back with conf_value parses to other values");

  SidecarConfig config;
  for (const auto& [key, value] : *pairs)
    if (!apply_config_key(&config, key, value)) return 0;
  if (!validate_config(config)) return 0;
  PG_HA_FUZZ_CHECK(core::validate_node_name(config.name).ok(), "a valid config with a bad node name");
  PG_HA_FUZZ_CHECK(core::validate_host(config.effective_connect_host()).ok(), "a valid config with a bad connect host");
  PG_HA_FUZZ_CHECK(agent::parse_conninfo_options(config.replication_conninfo_options).ok(), "a valid config with bad options");
  return 0;
}
