// Why postgres is down, as the sidecar tells it to the cluster (the down/<name> key, /health):
// a pure classification of what the supervisor saw, so that it can be tested without a server.
//
// The distinction that matters for failover: a postmaster that exits during start-up (crash
// recovery hit ENOSPC, a bad parameter, a missing file) has *failed to start*. Waiting out
// primary_start_timeout for it only lengthens the outage, so a primary's sidecar gives up its
// lease at once. A postmaster that is still in crash recovery is merely slow and is given the
// timeout.
#pragma once

#include <string>

namespace pg_ha::sidecar {

enum class DownKind {
  Crashed,      // exited after serving; restarted at once (primary) or with back-off
  StartFailed,  // exited before it served again, or its own crash recovery failed
  CrashLoop,    // kept exiting: kCrashLoopExits exits without kStableAfterMs up in between
  Stopped,      // down and left down on purpose: the cluster is paused
};

constexpr int kCrashLoopExits = 3;

struct ExitFacts {
  bool served_since_start = false;   // it accepted connections after its last start
  std::string log_since_start;       // what postgres logged since its last start
  int exits_without_stable_run = 0;  // exits (this one included) since it last ran 60 s
};

// Start failure before crash loop: a start failure releases a primary's lease at once.
DownKind classify_exit(const ExitFacts& facts);

// "crashed", "start failed", "crash loop", "stopped": the state the down/<name> key carries.
const char* down_kind_name(DownKind kind);

// True when postgres's own log says that its start-up (crash recovery) failed: the postmaster
// restarts itself after a backend PANIC, and exits when the startup process then fails.
bool log_says_startup_failed(const std::string& log);

// Why postgres stopped, from what it logged since its start: the first PANIC or FATAL line that
// is its own (not a client turned away while it starts or stops: the sidecar's own pings leave
// "the database system is starting up" lines) and up to two lines before it (a bad parameter is
// named in the LOG line before "configuration file ... contains errors"), without the
// log_line_prefix, joined by " / ", at most 1000 characters. "" when there is none.
std::string reason_from_log(const std::string& log);

}  // namespace pg_ha::sidecar
