// Operator requests (SQL control functions), validated against the etcd view before anything is
// written. Each returns the one transaction that records the request, or an error that names the
// problem and changes nothing. The worker and the SQL functions share these: one way to do it.
#pragma once

#include <string>

#include "common/result.hpp"
#include "core/config.hpp"
#include "core/decision.hpp"
#include "core/schema.hpp"

namespace pg_ha::core {

// Planned switchover to `candidate` ("" = the best eligible replica). Refused for an unknown node,
// the primary itself, a nofailover/priority-0 node, a node that is not streaming, or one lagging
// more than maximum_lag_on_failover; refused while another request is pending.
Result<EtcdWrite> plan_switchover(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                  const std::string& candidate);
// Whether only maximum_lag_on_failover refuses that switchover: it would be planned without the
// bound. Reports are written once per loop; one taken during a burst (after pg_switch_wal(), the
// rest of a segment is shipped) may lag for a moment, so pg_ha.switchover() reads again a while.
// Any other refusal (tags, a pending request, no candidate at all) is final at once.
bool switchover_refused_only_for_lag(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                     const std::string& candidate);

// Manual failover to a named candidate: works without a live primary and while paused. In
// synchronous mode a candidate outside the recorded sync set needs force = true.
Result<EtcdWrite> plan_failover(const Keys& keys, const EtcdView& view, const ClusterConfig& config,
                                const std::string& candidate, bool force);

Result<EtcdWrite> plan_pause(const Keys& keys, const EtcdView& view, bool paused);

// Merges a JSON object patch into the current config (null removes a key), validates the result
// and writes it with a compare on the config's mod_revision.
Result<EtcdWrite> plan_config_patch(const Keys& keys, const EtcdView& view, const std::string& patch_json);

// Asks `node`'s sidecar to restart PostgreSQL (e.g. for a pending restart-only parameter).
Result<EtcdWrite> plan_restart(const Keys& keys, const EtcdView& view, const std::string& node);

// Asks replica `node` to be re-cloned from the primary (its worker sends its sidecar a reclone:
// the data directory is moved aside, never deleted). Refused for the primary, an unknown or
// not-live node, with no primary, or while a reinit of it is pending.
Result<EtcdWrite> plan_reinit(const Keys& keys, const EtcdView& view, const std::string& node);

// Deletes what etcd still holds of a member that is gone: its record (if one outlived its lease)
// and its pending restart/reinit requests. Refused for the primary, a member of the recorded
// synchronous set and a member whose record is alive (its node runs); "nothing to remove" when
// etcd holds nothing of it.
Result<EtcdWrite> plan_remove(const Keys& keys, const EtcdView& view, const std::string& node);

}  // namespace pg_ha::core
