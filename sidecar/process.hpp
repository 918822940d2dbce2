// Child processes: PostgreSQL's tools (initdb, pg_basebackup, pg_rewind...) and the postmaster
// itself, run as the sidecar's own OS user (os_user; the sidecar refuses to run as root). The postmaster is the sidecar's direct child so its exit
// is seen at once; a postmaster left by an earlier sidecar is adopted and watched by pid.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/result.hpp"

namespace pg_ha::sidecar {

// Set by the signal handlers; every wait loop checks them.
bool stop_requested();
// True once after each SIGHUP: the sidecar reads its config file again (supervisor.cpp).
bool take_reload_request();
void install_signal_handlers();
// Sleeps up to `ms`, returning early when a signal arrives.
void nap_ms(int ms);
int64_t monotonic_ms();
int64_t unix_ms();

// The OS user the sidecar and everything it starts run as: the sidecar's own (no user switch).
struct RunAs {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// Resolves os_user and checks that the sidecar runs as that user. Root is refused: it would act
// in directories that os_user (and so any database superuser) controls.
Result<RunAs> resolve_run_as(const std::string& os_user);

struct SpawnOptions {
  RunAs run_as;
  std::map<std::string, std::string> env;   // added to a small clean environment
  std::string output_file;                  // stdout+stderr appended here ("" = inherit)
  std::string stdin_file;                   // "" = /dev/null
  // Tools die with the sidecar (a second pg_rewind must never race an orphaned first one); the
  // postmaster does not (a sidecar crash must not take the primary down).
  bool die_with_parent = true;
};

// Forks and execs argv[0] (an absolute path) in a new session. Returns the child's pid.
Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

struct CommandResult {
  int exit_code = -1;       // -1: killed by a signal
  std::string output;       // the last few KB of stdout+stderr, for error messages
};

// Runs a command to completion (or until `timeout_ms` or a stop signal, which kill it).
Result<CommandResult> run_command(const std::vector<std::string>& argv, SpawnOptions options, int64_t timeout_ms);

// Waits (non-blocking) for a child: true and *status set when it has exited.
bool reap(pid_t pid, int* status);
// True while a process (not necessarily our child) exists and is not a zombie.
bool pid_alive(pid_t pid);
// True for a process that has exited and waits for its parent to reap it.
bool pid_is_zombie(pid_t pid);
std::string describe_exit(int status);

// Turns a child's argv into a loggable line (no secrets are ever passed on command lines).
std::string join_argv(const std::vector<std::string>& argv);

// Makes `path` (and parents) exist as a directory with `mode` (owned by us, the os_user).
Status ensure_dir(const std::string& path, const RunAs& run_as, mode_t mode);
Result<std::string> read_whole_file(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace pg_ha::sidecar
