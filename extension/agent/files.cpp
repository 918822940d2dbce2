#include "agent/files.hpp"

#include <cerrno>
#include <cstring>

#include <fstream>
#include <sstream>

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return make_error(ErrorKind::Internal, what + " \"" + path + "\": " + std::strerror(errno));
}

}  // namespace

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
