#include "log.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

std::mutex g_log_mutex;   // the HTTP threads log too
FILE* g_log = nullptr;     // nullptr = stderr

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warning: return "WARNING";
    case LogLevel::Error: return "ERROR";
  }
  return "?";
}

}  // namespace

void log_line(LogLevel level, const std::string& message) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm utc{};
  gmtime_r(&tv.tv_sec, &utc);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &utc);
  std::lock_guard<std::mutex> lock(g_log_mutex);
  FILE* out = g_log ? g_log : stderr;
  fprintf(out, "%s.%03d UTC pg_ha_sidecar %s: %s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
          level_name(level), message.c_str());
  fflush(out);
}

bool log_to_file(const std::string& path) {
  FILE* f = fopen(path.c_str(), "a");
  if (!f) return false;
  std::lock_guard<std::mutex> lock(g_log_mutex);
  g_log = f;
  return true;
}

}  // namespace pg_ha::sidecar
