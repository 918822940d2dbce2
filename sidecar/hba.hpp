// The sidecar's pg_hba.conf (core/hba.hpp says who writes which part): its own rules first, so
// no cluster rule can lock out the sidecar, the worker or replication; then the cluster's
// section (postgresql.pg_hba); then a scram-sha-256 rule per client network, the default for
// ordinary clients, which the cluster's rules may therefore refine or override.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "config.hpp"

namespace pg_ha::sidecar {

// client_networks = '10.0.0.0/8, 192.168.1.0/24': each entry a CIDR; the error names the entry.
Result<std::vector<std::string>> parse_client_networks(const std::string& text);

std::string render_hba(const SidecarConfig& c, const std::vector<std::string>& cluster_rules);

}  // namespace pg_ha::sidecar
