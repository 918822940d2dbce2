// Reading the files the agent owns in the node's state directory (they are written with
// files::write_atomically, common/atomic_file.hpp).
#pragma once

#include <string>

#include "common/atomic_file.hpp"
#include "common/result.hpp"

namespace pg_ha::agent {

// Reads a whole file; NotFound when it does not exist.
Result<std::string> read_file(const std::string& path);

}  // namespace pg_ha::agent
