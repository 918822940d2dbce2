// The health-check HTTP server: a listening socket, one accept thread and a fixed pool of worker
// threads; what a request means is http_request.hpp's. A small server of our own rather than
// cpp-httplib, because cpp-httplib 0.11 (Debian 12) buffers a request line or a header line of
// any length and reads bodies into memory: one request could grow the sidecar without bound.
//
// Limits (docs/sidecar.md, "HTTP limits"): one thread reads every connection's request head
// (non-blocking, poll), at most 8 KiB that must arrive within head_timeout_ms; at most
// max_connections heads are being read at once, and a new connection evicts the oldest of them,
// so idle or trickling connections can neither hold a thread nor lock out a health check. A
// complete head goes to one of `threads` workers (at most `queued` wait; beyond that the answer is
// 503 at once), which runs the check and writes the answer within write_timeout_ms. A body is
// never read; one request per connection. Descriptors stay bounded by the sum of these limits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "health.hpp"

namespace pg_ha::sidecar {

struct HttpLimits {
  size_t threads = 4;
  size_t queued = 16;
  size_t max_connections = 64;   // request heads being read at once
  int head_timeout_ms = 2000;
  int write_timeout_ms = 2000;
  int listen_backlog = 64;
};

class HttpServer {
 public:
  explicit HttpServer(HealthChecks& checks, HttpLimits limits = {});
  ~HttpServer();
  // Binds host:port and serves in background threads.
  Status start(const std::string& host, int port);
  void stop();

 private:
  struct Job {
    int fd = -1;
    std::string head;   // "" = the head was too large
  };
  void read_loop();
  bool hand_over(Job job);
  void work();
  void answer(const Job& job);

  HealthChecks& checks_;
  const HttpLimits limits_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;       // complete heads waiting for a worker
  std::thread reader_;
  std::vector<std::thread> workers_;
};

}  // namespace pg_ha::sidecar
