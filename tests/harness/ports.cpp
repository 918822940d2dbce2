#include "harness/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>

namespace pg_ha::test {

namespace {

// Binds a fresh socket to 127.0.0.1:0 and returns it with its port; throws on failure.
int bind_loopback(int* port_out) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(e));
  }
  *port_out = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int pick_free_port() {
  static std::mutex mu;
  static std::set<int> handed_out;
  std::lock_guard<std::mutex> lock(mu);
  for (int tries = 0; tries < 100; ++tries) {
    int port = 0;
    int fd = bind_loopback(&port);
    ::close(fd);
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("no free loopback port found");
}

std::vector<int> pick_free_ports(int count) {
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) ports.push_back(pick_free_port());
  return ports;
}

BlackHole::BlackHole() {
  fd_ = bind_loopback(&port_);
  // The kernel completes handshakes into the backlog; nobody ever accepts or answers.
  if (::listen(fd_, 128) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  }
}

BlackHole::~BlackHole() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace pg_ha::test
