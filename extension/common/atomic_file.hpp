// The one writer of durable files (the agent's pg_ha.auto.conf and requests, the sidecar's
// postgresql.conf, pg_hba.conf, results and markers). A reader sees the old or the new content,
// never a torn one, also after a crash: temp file, fsync, rename, fsync of the directory.
//
// It never follows a symlink at the file's own name or its temp name: the temp file is created
// with O_CREAT|O_EXCL|O_NOFOLLOW relative to the opened directory and renamed over the target
// (rename replaces a symlink, it does not write through it). A process writing into a directory
// another user can write to therefore cannot be pointed at another file.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.hpp"

namespace pg_ha::files {

struct WriteOptions {
  mode_t mode = 0600;
};

Status write_atomically(const std::string& path, const std::string& content, const WriteOptions& options = {});

}  // namespace pg_ha::files
