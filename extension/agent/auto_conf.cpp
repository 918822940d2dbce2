#include "agent/auto_conf.hpp"

#include "common/quoting.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

using quoting::conf_value;
using quoting::conninfo_value;

std::string render_auto_conf(const std::optional<core::FollowTarget>& follow, const ReplicationSettings& replication,
                             const std::string& synchronous_standby_names,
                             const std::map<std::string, std::string>& parameters) {
  std::string out = "# Written by the pg_ha worker; do not edit: it is rewritten whenever the cluster changes.\n";
  for (const auto& [name, value] : parameters) out += name + " = " + conf_value(value) + "\n";
  std::string conninfo;
  if (follow) {
    conninfo = "host=" + conninfo_value(follow->host) + " port=" + std::to_string(follow->port) +
               " user=" + conninfo_value(replication.user) +
               " application_name=" + conninfo_value(replication.application_name) + " connect_timeout=2" +
               " keepalives_idle=5 keepalives_interval=2 keepalives_count=3";
    if (!replication.passfile.empty()) conninfo += " passfile=" + conninfo_value(replication.passfile);
  }
  out += "primary_conninfo = " + conf_value(conninfo) + "\n";
  out += "synchronous_standby_names = " + conf_value(synchronous_standby_names) + "\n";
  return out;
}

}  // namespace pg_ha::agent
