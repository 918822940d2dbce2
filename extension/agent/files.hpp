// Small durable-file helpers for the files the agent owns in the node's state directory.
#pragma once

#include <string>

#include "common/result.hpp"

namespace pg_ha::agent {

// Writes path atomically: temp file in the same directory, fsync, rename, fsync the directory.
// A reader sees the old or the new content, never a torn one, also after a crash.
Status write_file_atomically(const std::string& path, const std::string& content);
// Reads a whole file; NotFound when it does not exist.
Result<std::string> read_file(const std::string& path);

}  // namespace pg_ha::agent
