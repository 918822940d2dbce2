#include "worker/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pg_ha::worker {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorKind::Internal, "could not " + what + " \"" + path + "\": " + std::strerror(errno));
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool write_all(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("create", temp);
  if (!write_all(fd, content) || fsync(fd) != 0) {
    Error e = io_error("write", temp);
    close(fd);
    unlink(temp.c_str());
    return e;
  }
  if (close(fd) != 0) return io_error("close", temp);
  if (rename(temp.c_str(), path.c_str()) != 0) return io_error("rename to", path);
  // The rename itself must survive a crash: sync the directory entry.
  std::string dir = directory_of(path);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error("open directory", dir);
  int rc = fsync(dfd);
  close(dfd);
  if (rc != 0) return io_error("fsync directory", dir);
  return ok_status();
}

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return make_error(ErrorKind::NotFound, "\"" + path + "\" does not exist");
    return io_error("open", path);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace pg_ha::worker
