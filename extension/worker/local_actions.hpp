// What the worker does to its own PostgreSQL, in-process, without waiting on it: each action
// returns at once and the next observation shows its effect.
#pragma once

#include <string>

#include "common/result.hpp"
#include "core/decision.hpp"
#include "worker/auto_conf.hpp"

namespace pg_ha::worker {

// Like pg_promote(wait => false): creates the promote signal file and signals the postmaster.
// A no-op (ok) when the server is not in recovery any more.
Status request_promote();

// Asks the postmaster to reload its configuration (it re-reads pg_ha.auto.conf too).
Status reload_postgres();

// Rewrites <state_dir>/pg_ha.auto.conf atomically and reloads when its content changed.
// *changed tells whether anything was written.
Status apply_auto_conf(const std::string& state_dir, const AutoConf& wanted, bool* changed);

// Writes <state_dir>/sidecar.request.json atomically (core/sidecar_channel.hpp).
Status write_sidecar_request(const std::string& state_dir, const core::SidecarRequest& request);

}  // namespace pg_ha::worker
