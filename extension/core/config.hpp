// Cluster-wide dynamic configuration (etcd key `config`) and this node's static settings, with
// validation of the rules that tie the timing knobs together (see docs/protocol.md, "Timing").
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "core/types.hpp"

namespace pg_ha::core {

enum class SyncMode { Off, On, Quorum };
const char* sync_mode_name(SyncMode mode);

struct ClusterConfig {
  int ttl_s = 10;                      // lease TTL in etcd
  int loop_wait_ms = 1000;             // keep-alive and heartbeat interval
  // fence_after_ms and fence_margin_ms: the largest pair (with max_clock_drift 1 %) whose
  // takeover_silence_ms fits in 3 whole seconds of etcd's TTL (3000 ms): 2500 / 1000 gave 3561,
  // which etcd's whole-second TTL makes as slow as 4000 (docs/protocol.md, "Fast takeover").
  int fence_after_ms = 2000;           // fence once this long passed since the last good keep-alive send
  int fence_margin_ms = 950;           // safety margin before the lease can expire on etcd's side
  double max_clock_drift = 0.01;       // bound on the rate difference between any two clocks
  int election_wait_ms = 1000;         // how long to wait for every live member's LSN report
  int switchover_timeout_ms = 10000;   // a switchover that cannot complete in this time is aborted
  int64_t maximum_lag_on_failover = 1048576;  // bytes; a candidate further behind is never promoted
  int primary_start_timeout_s = 30;    // sidecar: restart a crashed primary in place within this time
  SyncMode synchronous_mode = SyncMode::Off;
  bool synchronous_mode_strict = false;
  int synchronous_node_count = 1;
  // bytes; a synchronous standby further behind the primary's flush position is replaced by a
  // healthy one when there is one (0: never). Patroni's maximum_lag_on_syncnode.
  int64_t maximum_lag_on_syncnode = 33554432;
  int history_limit = 100;             // history entries kept in etcd; the primary deletes older ones
  // Replicas take over from a primary whose lease etcd shows silent for longer than the primary's
  // own fence window (docs/protocol.md, "Fast takeover"), instead of waiting for the lease to expire.
  bool fast_takeover = true;
  // Replication slots (docs/operations.md, "Replication slots"): a physical slot per member on the
  // primary and, ready for a failover, on every replica; false falls back to wal_keep_size alone.
  bool use_slots = true;
  // How long a member slot outlives its member's record in etcd before it is dropped.
  int member_slots_ttl_s = 1800;
  // Permanent slots: name -> type ("physical", the only type so far), kept on the primary.
  std::map<std::string, std::string> permanent_slots;
  std::map<std::string, std::string> postgresql_parameters;
  // Client access rules (pg_hba.conf lines, core/hba.hpp), after the sidecar's own rules on every
  // node; changing them needs a superuser (sql_api/privileges.hpp).
  std::vector<std::string> pg_hba;
};

// Parses the `config` value (JSON). Unknown top-level keys are an error: a typo must not be
// silently ignored in a production HA config.
Result<ClusterConfig> parse_cluster_config(const std::string& json);
std::string encode_cluster_config(const ClusterConfig& config);
// Checks each knob's range and the rules that tie them together; the message names the rule.
Status validate_cluster_config(const ClusterConfig& config);

// The latest moment, on this node's clock, at which it may still commit after a keep-alive sent at
// `sent_ms` renewed a lease that etcd granted `granted_ttl_s`: the lease cannot have expired on
// etcd's clock before then (drift and margin applied), and fence-early cuts it shorter still. The
// lease's own TTL bounds it, not the config's current `ttl` (a lease keeps the TTL it was granted
// with until it is replaced); the smaller of the two is used. 0 (no writes) when the granted TTL
// is unknown or leaves nothing.
TimeMs write_deadline_after_keepalive(const ClusterConfig& config, TimeMs sent_ms, int64_t granted_ttl_s);

// How often a primary sends its keep-alive: every loop_wait_ms, but at least twice per
// fence_after_ms, so that an answer may take half the gate's window and still keep it open. At
// the defaults (1000 / 2000) both are the same; with fence_after_ms just above loop_wait_ms a
// keep-alive every loop_wait_ms left only the difference for its round trip (FINDINGS F23).
TimeMs leader_keepalive_interval_ms(const ClusterConfig& config);

// Fast takeover (docs/protocol.md): how long, on etcd's clock or a candidate's, a leader lease must
// have been silent before the primary's gate is surely closed: its fence window stretched by the
// slowest clock, plus fence_margin_ms for the step between the COMMIT-time check and the answer.
TimeMs takeover_silence_ms(const ClusterConfig& config);
// The inverse: the longest fence window whose takeover silence is at most `silence_ms` (a primary
// whose `leader` records that silence must not use a longer window).
TimeMs window_for_silence_ms(const ClusterConfig& config, TimeMs silence_ms);

struct NodeConfig {
  std::string name;
  std::string host;      // where peers and clients reach this node's postgres
  int port = 5432;
  std::string api_url;   // the sidecar's HTTP health endpoint, for status display
  Tags tags;
  std::string member_id; // durable identity (core::NodeIdentity); "" = none known (no sidecar)
};

Status validate_node_name(const std::string& name);

}  // namespace pg_ha::core
