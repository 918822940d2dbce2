// The cluster as pg_hactl prints it (list, topology): pure functions from the JSON document that
// verbs_status.cpp reads in one query, {"cluster", "leader", "term", "paused", "sync_standbys",
// "members": [pg_ha.members() rows as JSON]}, to text.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace pg_ha::ctl {

// A patronictl-like table: Member, Host, Role, State, TL, Lag in MB, then "Pending restart" and
// "Tags" when any member has one. The leader first, then the others by name. `topology` indents
// the replicas under the primary ("+ node2"). A paused cluster gets a "Maintenance mode: on" line.
std::string render_members(const nlohmann::json& cluster, bool topology = false);

// "primary", "sync standby" (in the recorded synchronous set) or the member's own role.
std::string display_role(const nlohmann::json& cluster, const nlohmann::json& member);

// Lag in whole MiB as text; "" for the primary, "unknown" when a replica's lag is not known.
std::string lag_mb(const nlohmann::json& member);

}  // namespace pg_ha::ctl
