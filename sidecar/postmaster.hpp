// The postmaster as the sidecar's child: start, notice its exit at once, stop it fast. A
// postmaster left running by an earlier sidecar (crashed or restarted) is adopted by pid rather
// than restarted, so restarting the sidecar never costs the primary an outage.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "node.hpp"

namespace pg_ha::sidecar {

class Postmaster {
 public:
  explicit Postmaster(const Node& node) : node_(node) {}

  // Starts `postgres -D data -c config_file=<state>/postgresql.conf [extra -c options]`.
  Status start(const std::vector<std::string>& extra_options = {});
  // Adopts a running postmaster of this data directory (from postmaster.pid); true if adopted.
  bool adopt_running();
  // Checks for an exit (non-blocking). Returns true while the postmaster runs.
  bool running();
  // The exit status of the last postmaster, once it has exited (a wait status; adopted: 0).
  int last_status() const { return last_status_; }
  bool adopted() const { return adopted_; }
  pid_t pid() const { return pid_; }
  // Fast shutdown (SIGINT), escalating to immediate (SIGQUIT) after `timeout_ms`.
  Status stop(int64_t timeout_ms);
  // Waits until it accepts connections on its socket, or `timeout_ms` passes, or it exits.
  Status wait_ready(int64_t timeout_ms);
  // True when the server answers on its unix socket (PQping).
  bool accepting() const;
  // After an exit: what postgres logged as the reason (its FATAL line and the lines before it).
  std::string exit_reason() const;
  // What postgres logged since this postmaster was started (at most the last 256 KiB).
  std::string log_since_start() const;
  // It accepted connections at some point since it was started (seen by accepting() or
  // wait_ready(); an adopted postmaster counts as served): an exit before that is a failed start.
  bool served() const { return served_; }

 private:
  bool has_standby_signal_file() const;
  void remove_lock_files_of_zombie() const;
  const Node& node_;
  pid_t pid_ = 0;
  bool adopted_ = false;
  int last_status_ = 0;
  long long log_offset_ = 0;   // size of the postgres log when this postmaster was started
  mutable bool served_ = false;
};

// Runs one SQL statement over the unix socket as the superuser; returns the first row's columns.
Result<std::vector<std::string>> local_query(const Node& node, const std::string& sql, int timeout_s = 3);
// The libpq conninfo for the local server over its private unix socket.
std::string local_conninfo(const Node& node, int timeout_s);

}  // namespace pg_ha::sidecar
