// Durable whole-file replacement: temp file + fsync + rename + fsync of the directory, so a
// reader (PostgreSQL's config parser, the sidecar) sees either the old or the new file, never a
// torn one, also after a crash.
#pragma once

#include <string>

#include "common/result.hpp"

namespace pg_ha::worker {

Status write_file_atomically(const std::string& path, const std::string& content);
// The whole file, or NotFound when it does not exist.
Result<std::string> read_whole_file(const std::string& path);

}  // namespace pg_ha::worker
