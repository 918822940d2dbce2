// Which members `pg_hactl restart` asks to restart, in which order. Pure, unit-tested.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_ha::ctl {

struct RestartSelection {
  std::vector<std::string> nodes;   // named on the command line
  bool all = false;
  bool pending = false;             // only members with pending_restart
};

// Replicas first, then the leader; a name that is not a member is still sent (the cluster's
// refusal names the members it knows). The member this connection reaches (`connected`, "" when
// unknown) goes last whatever its role: its restart ends the connection, and every other request
// must have been sent by then.
std::vector<std::string> restart_order(const RestartSelection& s, const nlohmann::json& cluster,
                                       const std::string& connected);

}  // namespace pg_ha::ctl
