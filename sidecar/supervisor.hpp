// The sidecar's main loop after bootstrap: keeps postgres running, applies the primary crash
// policy, carries out the worker's requests, finishes the bootstrap, and on SIGTERM/SIGINT shuts
// postgres down fast and returns.
//
// Crash policy (DESIGN.md §6). A postgres that exits without being asked to:
//   replica        -> restarted with back-off (0 s, then 1, 2, 4 ... 30 s; reset after 60 s up);
//   primary        -> restarted in place at once; if it is not accepting connections again within
//                     primary_start_timeout (cluster config), or at once when that is 0, or at
//                     once when it *failed to start* (exited during start-up: down_state.hpp),
//                     the node's etcd lease is revoked so the election starts now, not after the
//                     ttl; it is still restarted with the back-off, to rejoin once it can;
//   cluster paused -> nothing automatic (like Patroni's maintenance mode): the sidecar logs and
//                     waits; it restarts postgres once the pause is lifted, or on a restart request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cluster_view.hpp"
#include "down_publisher.hpp"
#include "down_state.hpp"
#include "node.hpp"
#include "postmaster.hpp"

namespace pg_ha::sidecar {

// Shared with the HTTP threads (read-only there).
struct SupervisorStats {
  std::atomic<int64_t> postgres_restarts{0};
  std::atomic<int64_t> lease_revocations{0};
  std::atomic<int64_t> requests_done{0};
  std::atomic<bool> postgres_running{false};

  // Why postgres is not serving, in its own words ("" while it serves); /health shows it.
  void set_down_reason(std::string reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    down_reason_ = std::move(reason);
  }
  std::string down_reason() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return down_reason_;
  }
  // "start failed", "crash loop", "crashed", "stopped" while postgres is down ("" otherwise): the
  // state the down/<name> key carries, also in /health and /liveness.
  void set_down_state(std::string state) {
    std::lock_guard<std::mutex> lock(mutex_);
    down_state_ = std::move(state);
  }
  std::string down_state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return down_state_;
  }

 private:
  mutable std::mutex mutex_;
  std::string down_reason_;
  std::string down_state_;
};

class Supervisor {
 public:
  // `cloned_from`: the member start-up just cloned the data directory from ("" if none).
  Supervisor(Node& node, ClusterView& cluster, SupervisorStats& stats, std::string cloned_from)
      : node_(node), cluster_(cluster), stats_(stats), postmaster_(node), cloned_from_(std::move(cloned_from)),
        down_(cluster.store(), cluster.keys()) {}

  // Runs until a stop signal; returns the process exit code.
  int run();
  // The command line the config was loaded from: a SIGHUP loads it again.
  void set_config_args(std::vector<std::string> args) { config_args_ = std::move(args); }

 private:
  void settle_revokes_of_previous_sidecar();
  void drop_stale_revoke_record();
  Status start(const char* why);
  void on_exit_seen();
  void while_down();
  void poll_requests();
  void replay_pending_request();
  bool paused_now();
  void check_primary_deadline();
  void start_at_once_if_parameters_changed();
  void publish_down_state(bool up);
  core::DownRecord down_record() const;
  void reload_if_asked();
  void warn_if_cluster_keys_lost();

  Node& node_;
  std::vector<std::string> config_args_;
  ClusterView& cluster_;
  SupervisorStats& stats_;
  Postmaster postmaster_;
  std::string cloned_from_;
  bool was_primary_ = false;      // started without standby.signal
  bool was_up_ = false;           // the postmaster ran at the last look
  int64_t down_since_ms_ = 0;     // 0 = postgres is up (or was never started)
  int64_t next_start_ms_ = 0;
  int attempts_ = 0;
  bool lease_revoked_ = false;
  bool logged_pause_ = false;
  bool paused_ = false;
  int64_t next_pause_check_ms_ = 0;
  int64_t next_parameters_check_ms_ = 0;
  int64_t primary_start_timeout_ms_ = 30000;
  int64_t up_since_ms_ = 0;
  int64_t next_ping_ms_ = 0;
  bool bootstrap_finished_ = false;
  int64_t next_bootstrap_try_ms_ = 0;
  int64_t next_keys_check_ms_ = 0;
  DownKind down_kind_ = DownKind::Crashed;
  bool start_failed_ = false;     // this outage: postgres failed to start (no primary_start_timeout)
  int64_t down_since_unix_ms_ = 0;
  DownPublisher down_;
};

}  // namespace pg_ha::sidecar
