#include "down_state.hpp"

namespace pg_ha::sidecar {

bool log_says_startup_failed(const std::string& log) {
  // postmaster.c: after a crash the postmaster reinitialises and runs crash recovery itself; when
  // the startup process fails it logs this and exits.
  return log.find("aborting startup due to startup process failure") != std::string::npos;
}

DownKind classify_exit(const ExitFacts& facts) {
  if (!facts.served_since_start || log_says_startup_failed(facts.log_since_start)) return DownKind::StartFailed;
  if (facts.exits_without_stable_run >= kCrashLoopExits) return DownKind::CrashLoop;
  return DownKind::Crashed;
}

const char* down_kind_name(DownKind kind) {
  switch (kind) {
    case DownKind::Crashed: return "crashed";
    case DownKind::StartFailed: return "start failed";
    case DownKind::CrashLoop: return "crash loop";
    case DownKind::Stopped: return "stopped";
  }
  return "crashed";
}

}  // namespace pg_ha::sidecar
