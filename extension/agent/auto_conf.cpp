#include "agent/auto_conf.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/quoting.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

using quoting::conf_value;
using quoting::conninfo_value;

namespace {

// libpq keywords that only tighten how a replication connection is secured.
const std::map<std::string, std::vector<std::string>>& conninfo_option_values() {
  static const std::map<std::string, std::vector<std::string>> allowed = {
      {"sslmode", {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}},
      {"channel_binding", {"disable", "prefer", "require"}},
      {"gssencmode", {"disable", "prefer", "require"}},
      {"ssl_min_protocol_version", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
      {"ssl_max_protocol_version", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
      {"sslsni", {"0", "1"}},
      {"sslcompression", {"0", "1"}},
      {"sslrootcert", {}}, {"sslcert", {}}, {"sslkey", {}}, {"sslcrl", {}}, {"sslcrldir", {}},
      {"krbsrvname", {}}, {"requirepeer", {}},
  };
  return allowed;
}

bool plain_value(const std::string& v) {
  if (v.empty()) return false;
  for (char c : v) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::string("_./:@+,-").find(c) != std::string::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<ConninfoOptions> parse_conninfo_options(const std::string& text) {
  ConninfoOptions out;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    std::string key = word.substr(0, eq), value = eq == std::string::npos ? "" : word.substr(eq + 1);
    auto rule = conninfo_option_values().find(key);
    if (eq == std::string::npos || rule == conninfo_option_values().end()) {
      return make_error(ErrorKind::Invalid, "replication connection option \"" + word +
                                                "\" is not keyword=value with a libpq TLS or authentication keyword "
                                                "(sslmode, sslrootcert, sslcert, sslkey, sslcrl, channel_binding, ...)");
    }
    const auto& values = rule->second;
    bool ok = values.empty() ? plain_value(value) : std::find(values.begin(), values.end(), value) != values.end();
    if (!ok) {
      return make_error(ErrorKind::Invalid, "replication connection option " + key + " cannot be \"" + value + "\"" +
                                                (values.empty() ? " (a path or name without blanks or quotes)" : ""));
    }
    out.emplace_back(key, value);
  }
  return out;
}

std::string render_parameters_conf(const std::map<std::string, std::string>& parameters) {
  std::string out =
      "# Written by pg_ha (worker and sidecar) from the cluster config's postgresql.parameters in etcd;\n"
      "# do not edit: change them with pg_ha.set_config().\n";
  for (const auto& [name, value] : parameters) out += name + " = " + conf_value(value) + "\n";
  return out;
}

std::string render_auto_conf(const std::optional<core::FollowTarget>& follow, const ReplicationSettings& replication,
                             const std::string& synchronous_standby_names, const std::string& primary_slot_name) {
  std::string out = "# Written by the pg_ha worker; do not edit: it is rewritten whenever the cluster changes.\n";
  std::string conninfo;
  if (follow) {
    conninfo = "host=" + conninfo_value(follow->host) + " port=" + std::to_string(follow->port) +
               " user=" + conninfo_value(replication.user) +
               " application_name=" + conninfo_value(replication.application_name) + " connect_timeout=2" +
               " keepalives_idle=5 keepalives_interval=2 keepalives_count=3";
    if (!replication.passfile.empty()) conninfo += " passfile=" + conninfo_value(replication.passfile);
    for (const auto& [key, value] : replication.conninfo_options) conninfo += " " + key + "=" + conninfo_value(value);
  }
  out += "primary_conninfo = " + conf_value(conninfo) + "\n";
  out += "primary_slot_name = " + conf_value(follow ? primary_slot_name : "") + "\n";
  out += "synchronous_standby_names = " + conf_value(synchronous_standby_names) + "\n";
  return out;
}

}  // namespace pg_ha::agent
