// Free loopback TCP ports, picked at run time: other work may share the machine, so never
// assume a fixed port (TOOLCHAIN.md).
#pragma once

#include <vector>

namespace pg_ha::test {

// A port on 127.0.0.1 that was free a moment ago and that this process has not handed out
// before (the kernel could otherwise return the same ephemeral port twice before use).
int pick_free_port();
std::vector<int> pick_free_ports(int count);

// A listening socket that completes TCP handshakes but never reads or answers: a "black-holed"
// server. Closed on destruction.
class BlackHole {
 public:
  BlackHole();
  ~BlackHole();
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace pg_ha::test
