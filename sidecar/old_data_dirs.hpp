// Data directories moved aside by a re-clone (`<data_dir>.old-<UTC stamp>[-n]`, pg_ops.hpp
// move_aside) are kept for the operator, but not forever: a node that re-clones now and then would
// otherwise fill its disk with copies. After a successful clone only the newest
// `keep_old_data_dirs` (sidecar config, default 1) are kept.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace pg_ha::sidecar {

// Of the entries of data_dir's parent directory (`names`, bare file names), the old copies of
// data_dir to delete so that the newest `keep` remain, oldest first. Pure: sorted by stamp, then
// by the numeric suffix move_aside adds when a stamp repeats.
std::vector<std::string> old_data_dirs_to_remove(const std::string& data_dir_name, const std::vector<std::string>& names,
                                                 int keep);

// Deletes the old copies beyond the newest `keep`; returns the paths removed.
Result<std::vector<std::string>> prune_old_data_dirs(const std::string& data_dir, int keep);

}  // namespace pg_ha::sidecar
