#include "agent/files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

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

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("could not create", tmp);
  bool ok = write_all(fd, content) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return io_error("could not write", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("could not rename onto", path);
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ok_status();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return make_error(ErrorKind::NotFound, "no file \"" + path + "\"");
    return io_error("could not open", path);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace pg_ha::agent
