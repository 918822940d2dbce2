#include "delay_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace pg_ha::test {

namespace {

using Clock = std::chrono::steady_clock;

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

// One direction of one connection: a reader queues chunks with the time they are due, a writer
// sends each when due. An empty chunk marks the end of the stream.
struct Direction {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<Clock::time_point, std::string>> queue;
};

struct DelayProxy::Link {
  int client = -1;
  int upstream = -1;
  Direction up, down;
  std::vector<std::thread> threads;
  std::atomic<int> ended{0};
};

DelayProxy::DelayProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("DelayProxy: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("DelayProxy: bind/listen: ") + std::strerror(errno));
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

DelayProxy::~DelayProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& l : links_) {
    ::shutdown(l->client, SHUT_RDWR);
    ::shutdown(l->upstream, SHUT_RDWR);
    for (Direction* d : {&l->up, &l->down}) {
      std::lock_guard<std::mutex> dl(d->mu);
      d->cv.notify_all();
    }
  }
  for (auto& l : links_) {
    for (auto& t : l->threads) t.join();
    ::close(l->client);
    ::close(l->upstream);
  }
}

void DelayProxy::accept_loop() {
  while (!stopping_) {
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;   // shut down
    }
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int u = connect_loopback(upstream_port_);
    if (u < 0) {
      ::close(c);
      continue;
    }
    reap_finished();
    auto link = std::make_unique<Link>();
    link->client = c;
    link->upstream = u;
    Link* l = link.get();
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(c);
      ::close(u);
      return;
    }
    // Reader and writer per direction; the writer of a finished stream half-closes its socket.
    for (auto [from, to, dir] : {std::tuple{c, u, &l->up}, std::tuple{u, c, &l->down}}) {
      l->threads.emplace_back([this, l, from = from, dir = dir] {
        std::vector<char> buf(64 * 1024);
        for (;;) {
          ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
          if (n < 0 && errno == EINTR) continue;
          std::string chunk = n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : std::string();
          std::lock_guard<std::mutex> dl(dir->mu);
          dir->queue.emplace_back(Clock::now() + std::chrono::milliseconds(delay_ms_.load()), std::move(chunk));
          dir->cv.notify_all();
          if (n <= 0) break;
        }
        ++l->ended;
      });
      l->threads.emplace_back([this, l, to = to, dir = dir] {
        for (;;) {
          std::unique_lock<std::mutex> dl(dir->mu);
          dir->cv.wait(dl, [&] { return stopping_ || !dir->queue.empty(); });
          if (stopping_) break;
          auto due = dir->queue.front().first;
          if (dir->cv.wait_until(dl, due, [&] { return stopping_.load(); })) break;
          std::string chunk = std::move(dir->queue.front().second);
          dir->queue.pop_front();
          dl.unlock();
          if (chunk.empty() || !send_all(to, chunk)) {
            ::shutdown(to, SHUT_WR);
            break;
          }
          ++chunks_;
        }
        ++l->ended;
      });
    }
    links_.push_back(std::move(link));
  }
}

void DelayProxy::reap_finished() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = links_.begin(); it != links_.end();) {
    Link& l = **it;
    if (l.ended < 4) {
      ++it;
      continue;
    }
    for (auto& t : l.threads) t.join();
    ::close(l.client);
    ::close(l.upstream);
    it = links_.erase(it);
  }
}

}  // namespace pg_ha::test
