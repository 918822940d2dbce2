// The delaying proxy the slow-link scenario depends on (no root needed): bytes arrive in order,
// whole, and never sooner than the delay each way.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "delay_proxy.hpp"

namespace pg_ha::test {
namespace {

using Clock = std::chrono::steady_clock;

// A one-connection echo server on a free loopback port.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 4);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;) ::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

std::string receive(int fd, size_t want) {
  std::string out;
  char buf[4096];
  while (out.size() < want) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

TEST(DelayProxy, DelaysEachWayAndKeepsOrder) {
  EchoServer echo;
  DelayProxy proxy(echo.port());
  proxy.set_delay_ms(150);
  int fd = connect_to(proxy.port());
  auto sent = Clock::now();
  std::string message;
  for (int i = 0; i < 50; ++i) {
    std::string part = "chunk " + std::to_string(i) + ";";
    ASSERT_EQ(::send(fd, part.data(), part.size(), 0), static_cast<ssize_t>(part.size()));
    message += part;
  }
  EXPECT_EQ(receive(fd, message.size()), message);
  EXPECT_GE(ms_since(sent), 300) << "a round trip through the proxy costs the delay twice";
  EXPECT_GT(proxy.chunks(), 0);

  proxy.set_delay_ms(0);   // back to forwarding at once, on the same connection
  ASSERT_EQ(::send(fd, "x", 1, 0), 1);
  EXPECT_EQ(receive(fd, 1), "x");
  ::close(fd);
}

}  // namespace
}  // namespace pg_ha::test
