// One-line log records on stderr (or the log file chosen at start-up): UTC time, level, message.
// Callers never pass a secret: passwords only ever travel through files and PGPASSFILE.
#pragma once

#include <string>

namespace pg_ha::sidecar {

enum class LogLevel { Debug, Info, Warning, Error };

void log_line(LogLevel level, const std::string& message);
inline void log_info(const std::string& m) { log_line(LogLevel::Info, m); }
inline void log_warn(const std::string& m) { log_line(LogLevel::Warning, m); }
inline void log_error(const std::string& m) { log_line(LogLevel::Error, m); }

// Redirects the log to `path` (appending); returns false and keeps stderr when it cannot be opened.
bool log_to_file(const std::string& path);

}  // namespace pg_ha::sidecar
