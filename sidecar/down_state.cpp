#include "down_state.hpp"

#include <sstream>
#include <vector>

namespace pg_ha::sidecar {

bool log_says_startup_failed(const std::string& log) {
  // postmaster.c: after a crash the postmaster reinitialises and runs crash recovery itself; when
  // the startup process fails it logs this and exits.
  return log.find("aborting startup due to startup process failure") != std::string::npos;
}

namespace {

// FATALs of sessions refused while the server starts or stops: never the reason it stopped.
bool turned_away(const std::string& line) {
  for (const char* noise : {"the database system is starting up", "the database system is shutting down",
                            "the database system is not yet accepting connections",
                            "the database system is not accepting connections", "the database system is in recovery mode",
                            "terminating connection due to administrator command"})
    if (line.find(noise) != std::string::npos) return true;
  return false;
}

}  // namespace

std::string reason_from_log(const std::string& log) {
  std::istringstream in(log);
  std::vector<std::string> lines;
  std::string line;
  bool skipping = false;   // the DETAIL/HINT lines of a session turned away go with it
  while (std::getline(in, line)) {
    size_t prefix = line.find("] ");
    if (prefix != std::string::npos && prefix < 60) line = line.substr(prefix + 2);
    bool fatal = line.rfind("FATAL:", 0) == 0 || line.rfind("PANIC:", 0) == 0;
    if (skipping && (line.rfind("DETAIL:", 0) == 0 || line.rfind("HINT:", 0) == 0)) continue;
    skipping = fatal && turned_away(line);
    if (skipping) continue;
    lines.push_back(line);
    if (!fatal) continue;
    std::string out;
    for (size_t i = lines.size() >= 3 ? lines.size() - 3 : 0; i < lines.size(); ++i)
      out += (out.empty() ? "" : " / ") + lines[i];
    return out.substr(0, 1000);
  }
  return "";
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
