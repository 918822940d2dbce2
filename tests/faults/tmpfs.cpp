#include "tmpfs.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "harness/process.hpp"

namespace pg_ha::test {

namespace {
int run(std::vector<std::string> argv) {
  SpawnOptions o;
  o.argv = std::move(argv);
  return run_command(o, 120000);
}
}  // namespace

Tmpfs::Tmpfs(int size_mb, const std::string& owner) {
  char tmpl[] = "/tmp/pg_ha_tmpfs_XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  mount_point_ = tmpl;
  std::string options = "size=" + std::to_string(size_mb) + "m,mode=0755";
  if (mount("tmpfs", mount_point_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    rmdir(mount_point_.c_str());
    throw std::runtime_error("cannot mount a tmpfs at " + mount_point_);
  }
  if (run({"install", "-d", "-m", "0700", "-o", owner, "-g", owner, data()}) != 0)
    throw std::runtime_error("cannot make " + data());
}

Tmpfs::~Tmpfs() {
  // The cluster is gone by now; a lazy unmount still detaches a mount some stray process holds.
  if (umount2(mount_point_.c_str(), 0) != 0) umount2(mount_point_.c_str(), MNT_DETACH);
  rmdir(mount_point_.c_str());
}

void Tmpfs::fill() {
  // Big blocks first, then pages: tmpfs allocates by page, so the second file takes the last ones.
  run({"dd", "if=/dev/zero", "of=" + mount_point_ + "/filler.big", "bs=1M", "status=none"});
  run({"dd", "if=/dev/zero", "of=" + mount_point_ + "/filler.small", "bs=4096", "status=none"});
}

void Tmpfs::free_space() {
  unlink((mount_point_ + "/filler.big").c_str());
  unlink((mount_point_ + "/filler.small").c_str());
}

bool Tmpfs::mounted(const std::string& mount_point) {
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, rest;
  while (in >> dev >> dir && std::getline(in, rest))
    if (dir == mount_point) return true;
  return false;
}

}  // namespace pg_ha::test
