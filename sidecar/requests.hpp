// The worker's requests (core/sidecar_channel.hpp): read <state_dir>/sidecar.request.json, carry
// it out, write <state_dir>/sidecar.result.json (temp + fsync + rename). A request is pending
// while its id differs from the result's; a sidecar that died half-way runs it again from the
// start, and every step is safe to repeat (markers in state_dir say what was interrupted).
#pragma once

#include <optional>
#include <string>

#include "cluster_view.hpp"
#include "core/sidecar_channel.hpp"
#include "node.hpp"
#include "postmaster.hpp"

namespace pg_ha::sidecar {

// Present while the sidecar restarts postgres on purpose (read by the worker at shutdown).
constexpr const char* kRestartingMarker = "sidecar.restarting";

// The pending request, if any. A malformed request file is logged (once per content) and ignored.
std::optional<core::SidecarRequest> pending_request(const Node& node);
Status write_result(const Node& node, const core::SidecarResult& result);

// The cluster config's postgresql.parameters rendered from etcd as the worker renders them
// (agent/auto_conf.hpp); nullopt when etcd cannot be read or holds a config the worker would
// ignore (then the file on disk stays as it is).
std::optional<std::string> parameters_conf_from_etcd(ClusterView& cluster);

// Writes this node's postgresql.conf (following the leader when it starts as a standby) and the
// cluster's parameters from etcd (while postgres is down nobody else writes them: a node that a
// bad parameter kept from starting comes back once the config in etcd is fixed), and starts
// postgres. Used at start-up, after a crash and by the requests.
// A standby's first primary_conninfo in postgresql.conf: the leader (the worker's own file wins).
std::optional<Upstream> initial_upstream(const Node& node, ClusterView& cluster);
Status start_postgres(const Node& node, Postmaster& postmaster, ClusterView& cluster,
                      const std::optional<Upstream>& follow = std::nullopt);

class RequestExecutor {
 public:
  RequestExecutor(const Node& node, ClusterView& cluster, Postmaster& postmaster)
      : node_(node), cluster_(cluster), postmaster_(postmaster) {}

  // Carries out the request and records its result; returns the result.
  core::SidecarResult run(const core::SidecarRequest& request);

 private:
  Status run_kind(const core::SidecarRequest& request, std::string* detail);
  Result<Upstream> upstream_of(const core::SidecarRequest& request);
  Status become_standby(const Upstream& from, bool try_rewind, std::string* detail);
  Status not_rewound_yet(const Upstream& from, const std::string& why);
  Status restart();
  Status release_lease(std::string* detail);

  const Node& node_;
  ClusterView& cluster_;
  Postmaster& postmaster_;
};

}  // namespace pg_ha::sidecar
