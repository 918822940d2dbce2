// Child processes for tests: fork/exec with output to a log file, optional run-as-user (for
// PostgreSQL, which refuses to run as root), its own process group, kill and wait with timeouts.
// A ChildProcess kills its whole process group with SIGKILL when destroyed, so nothing outlives a
// failing test.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace pg_ha::test {

struct SpawnOptions {
  std::vector<std::string> argv;      // argv[0] is looked up in PATH when it has no '/'
  std::string log_path;               // stdout and stderr, appended; empty = /dev/null
  std::string cwd;                    // empty = inherit
  std::vector<std::string> env;       // extra "NAME=value" entries on top of the environment
  std::string run_as_user;            // e.g. "postgres"; only applied when running as root
  // SIGKILL the child when the test process dies, even by SIGKILL (a ctest timeout): nothing
  // may outlive the test. Note it applies to the direct child only; grandchildren are reached
  // by the process-group kill of the destructor.
  bool die_with_parent = true;
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL to the process group if still running, then reaps it
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Throws std::runtime_error when fork or exec fails (the exec error is reported back).
  static ChildProcess spawn(const SpawnOptions& options);

  pid_t pid() const { return pid_; }
  bool running();                              // reaps it if it has exited
  void signal(int sig);                        // to the whole process group
  // Waits up to timeout_ms; the wait(2) status when it exited, nullopt when still running.
  std::optional<int> wait(int timeout_ms);
  // SIGTERM, wait up to grace_ms, then SIGKILL. Returns the wait status.
  int stop(int grace_ms = 5000);
  void kill9() { signal(9); wait(5000); }
  std::optional<int> exit_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs a command to completion (e.g. openssl, etcdctl); returns its exit code, -1 on timeout
// (the command is killed). Output goes to log_path.
int run_command(const SpawnOptions& options, int timeout_ms = 30000);

// For messages: the last max_bytes of a log file.
std::string tail_file(const std::string& path, size_t max_bytes = 4000);

}  // namespace pg_ha::test
