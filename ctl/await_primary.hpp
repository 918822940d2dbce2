// After a switchover or failover request: poll the cluster until another member is the primary.
// Pure (no libpq): the caller passes how to read the cluster document, so the unit tests can feed
// it the errors a restarting node gives.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace pg_ha::ctl {

// Reads a read_cluster() document from some node; may throw Failure.
using ClusterProbe = std::function<nlohmann::json()>;

struct AwaitPrimary {
  std::string old_leader;
  std::string target;                     // "" = any member but old_leader
  std::chrono::milliseconds wait{60000};
  std::chrono::milliseconds poll{200};
};

// The new primary's name once a member other than old_leader (target, when named) leads with role
// primary. Every failure while polling is retried until the deadline: the node asked may be the one
// being demoted, and a server that has just restarted refuses status until its worker publishes.
// Past the deadline: Failure(kExitRefused) that names the last error seen.
std::string await_new_primary(const ClusterProbe& probe, const AwaitPrimary& a);

}  // namespace pg_ha::ctl
