// A small tmpfs for a disk-full test, mounted at a fresh directory under /tmp and unmounted by the
// destructor, also when the test failed half-way. The cluster's data directory is a symlink to a
// folder in it (not the mount point itself, which could not be renamed aside by a re-clone).
#pragma once

#include <string>

namespace pg_ha::test {

class Tmpfs {
 public:
  // Mounts `size_mb` MiB; `owner` (an OS user) gets the folder `data` in it. Throws on failure.
  Tmpfs(int size_mb, const std::string& owner);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  const std::string& mount_point() const { return mount_point_; }
  std::string data() const { return mount_point_ + "/data"; }
  // Fills every byte left with files the test owns (root): the server then gets ENOSPC.
  void fill();
  // Removes what fill() wrote.
  void free_space();
  // The mount is listed in /proc/self/mounts.
  static bool mounted(const std::string& mount_point);

 private:
  std::string mount_point_;
};

}  // namespace pg_ha::test
