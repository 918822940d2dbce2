// The include file the worker owns: `<state_dir>/pg_ha.auto.conf`, read after the sidecar's
// postgresql.conf. It carries what the HA state decides: whom to stream from, the synchronous
// standbys, and the cluster-wide dynamic PostgreSQL parameters. Rewritten atomically, then
// the postmaster reloads (PostgreSQL 13+ applies primary_conninfo without a restart).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/decision.hpp"

namespace pg_ha::agent {

constexpr const char* kAutoConfFile = "pg_ha.auto.conf";

struct ReplicationSettings {
  std::string user = "replicator";
  std::string passfile;          // libpq passfile; the password never appears in this file
  std::string application_name;  // this node's name, so the primary can tell standbys apart
};

std::string render_auto_conf(const std::optional<core::FollowTarget>& follow, const ReplicationSettings& replication,
                             const std::string& synchronous_standby_names,
                             const std::map<std::string, std::string>& parameters);

}  // namespace pg_ha::agent
