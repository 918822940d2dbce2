#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/no_postgres.hpp"

namespace pg_ha::files {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorKind::Internal, what + " \"" + path + "\": " + std::strerror(errno));
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A new temp file that did not exist before: a leftover from a crash (or a planted symlink) is
// unlinked, never opened.
int create_temp(int dir, const std::string& name, mode_t mode) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::openat(dir, name.c_str(), flags, mode);
  if (fd < 0 && errno == EEXIST && ::unlinkat(dir, name.c_str(), 0) == 0) fd = ::openat(dir, name.c_str(), flags, mode);
  return fd;
}

Status fill(int fd, const std::string& content, const WriteOptions& o, const std::string& tmp_path) {
  if (!write_all(fd, content)) return io_error("could not write", tmp_path);
  if (::fchmod(fd, o.mode) != 0) return io_error("could not chmod", tmp_path);
  if (::fsync(fd) != 0) return io_error("could not fsync", tmp_path);
  return ok_status();
}

}  // namespace

Status write_atomically(const std::string& path, const std::string& content, const WriteOptions& o) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return make_error(ErrorKind::Invalid, "not a file name: \"" + path + "\"");
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0) return io_error("could not open directory", dir);
  std::string tmp = name + ".tmp";
  Status s = ok_status();
  {
    Fd fd(create_temp(dfd.get(), tmp, o.mode));
    if (fd.get() < 0) return io_error("could not create", dir + "/" + tmp);
    s = fill(fd.get(), content, o, dir + "/" + tmp);
  }
  if (s.ok() && ::renameat(dfd.get(), tmp.c_str(), dfd.get(), name.c_str()) != 0) s = io_error("could not rename onto", path);
  if (!s.ok()) {
    int saved = errno;
    ::unlinkat(dfd.get(), tmp.c_str(), 0);
    errno = saved;
    return s;
  }
  ::fsync(dfd.get());   // the rename is durable only once the directory is
  return ok_status();
}

}  // namespace pg_ha::files
