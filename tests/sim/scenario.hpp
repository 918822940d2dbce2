// What one seed runs: cluster size and config, clocks, network character, and the fault plan.
// Everything is drawn from the run's generator before the run starts.
#pragma once

#include <string>
#include <vector>

#include "clock.hpp"
#include "core/config.hpp"
#include "rng.hpp"

namespace pg_ha::sim {

enum class FaultKind { Partition, WorkerStall, PgCrash, NodeCrash, EtcdOutage, LossySpell, Operator, ConfigChange, Suspend,
                       EtcdLeaderChange, Duplicate };
const char* fault_kind_name(FaultKind k);

enum class PartitionMode { Both, RequestsOnly, ResponsesOnly, SlowResponses, SlowRequests };
enum class OperatorAction { Switchover, Failover, Pause, Resume };

struct Fault {
  FaultKind kind = FaultKind::Partition;
  TimeMs at_ms = 0;
  TimeMs duration_ms = 0;
  std::vector<int> nodes;            // Partition: the cut-off set; others: nodes[0] (-1 = the primary then)
  PartitionMode mode = PartitionMode::Both;
  bool replication_too = false;      // Partition: also cut from the other nodes (not just etcd)
  bool renew_leases = false;         // EtcdOutage: leases get a full TTL when etcd returns
  OperatorAction action = OperatorAction::Switchover;
  bool force = false;                // Operator failover
  int ttl_s = 0;                     // ConfigChange: the new ttl (set_config, as an operator would)
  int fence_after_ms = 0;            // ConfigChange: the new fence_after_ms
  // Duplicate: an operator starts a second node under nodes[0]'s name with its own identity (a
  // fresh clone of the primary, its own state_dir), duration_ms after the fault began; with
  // original_down the original's machine is crashed first (it comes back at heal at the latest).
  bool original_down = false;
  bool remove_at_heal = false;       // Duplicate: the operator removes the second node at heal
};

struct Scenario {
  uint64_t seed = 0;
  int nodes = 3;
  core::ClusterConfig config;
  std::vector<core::Tags> tags;
  std::vector<Clock> clocks;
  Clock etcd_clock;
  TimeMs request_timeout_ms = 1000;   // the worker's etcd client timeout
  // Network between nodes and etcd.
  TimeMs delay_min_ms = 1, delay_max_ms = 20;
  double loss = 0.0;
  double slow_prob = 0.0;             // a message is slow (delay up to slow_max_ms)
  TimeMs slow_max_ms = 0;
  // Workload and replication.
  TimeMs repl_tick_ms = 20;
  TimeMs client_gap_min_ms = 5, client_gap_max_ms = 40;
  int64_t commit_min_bytes = 100, commit_max_bytes = 3000;
  // Phases: quiet start, faults, healing, then the liveness window.
  TimeMs faults_from_ms = 0;
  TimeMs heal_at_ms = 0;
  TimeMs liveness_bound_ms = 0;
  TimeMs end_ms = 0;
  std::vector<Fault> faults;
  // The worker re-grants its lease this long after it first saw a new ttl (0: at once; more
  // models re-grants that fail or lag: the core must stay safe on the old lease meanwhile).
  TimeMs regrant_delay_ms = 0;
  // A commit stalls between its pre-commit check and its end (fsync, SIGSTOP) with this chance,
  // for up to commit_stall_max_ms.
  double commit_stall_prob = 0.0;
  TimeMs commit_stall_max_ms = 0;
  // etcd rounds LeaseTimeToLive's remaining seconds down; in some runs up (the core must not care).
  bool ttl_ceil = false;
  bool receive_time_canary = false;   // driver bug on purpose: deadline from keep-alive receive time
  // Glue bugs on purpose (CANARIES.md): "no-commit-check" (a stalled commit is acknowledged
  // without the COMMIT-time deadline check), "clock-stops-in-suspend" (the deadline clock is
  // CLOCK_MONOTONIC, which stands still while the node is suspended).
  std::string sim_canary;
  // Machines beyond `nodes` that no fault but Duplicate starts (their clocks follow the nodes').
  int spare_nodes = 0;
  std::string skip;                   // invariants not checked (",I5,"): lets a canary reach the one it targets
};

Scenario make_scenario(uint64_t seed, int nodes, Rng& rng);
// The bound L1 promises after faults heal (docs/simulation.md).
TimeMs liveness_bound_ms(const core::ClusterConfig& c);
std::string describe(const Scenario& s);

}  // namespace pg_ha::sim
