#include "hba.hpp"

#include <sstream>

#include "core/hba.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {

Result<std::vector<std::string>> parse_client_networks(const std::string& text) {
  std::vector<std::string> nets = split_list(text);
  for (const std::string& n : nets)
    if (!core::valid_cidr(n))
      return make_error(ErrorKind::Invalid, "`client_networks`: \"" + n + "\" is not an address/prefix (e.g. 10.0.0.0/8)");
  return nets;
}

std::string render_hba(const SidecarConfig& c, const std::vector<std::string>& cluster_rules) {
  std::ostringstream o;
  o << "# Written by pg_ha_sidecar at every start; edits are lost. Local connections: peer, with root and\n"
       "# os_user mapped to the superuser. Client access: the cluster config's postgresql.pg_hba (the\n"
       "# section below, kept current by the worker) and the sidecar's client_networks after it.\n";
  o << "local all all peer map=pg_ha\n";
  for (const auto& net : split_list(c.replication_networks)) {
    // replication for streaming and pg_basebackup; `postgres` for pg_rewind's source connection.
    o << "host replication " << c.replication_user << " " << net << " scram-sha-256\n";
    o << "host postgres " << c.replication_user << " " << net << " scram-sha-256\n";
    if (c.effective_rewind_user() != c.replication_user)
      o << "host postgres " << c.rewind_user << " " << net << " scram-sha-256\n";
  }
  o << core::render_cluster_hba_section(cluster_rules);
  auto nets = parse_client_networks(c.client_networks);   // checked when the config was loaded
  if (nets)
    for (const auto& net : *nets) o << "host all all " << net << " scram-sha-256\n";
  return o.str();
}

}  // namespace pg_ha::sidecar
