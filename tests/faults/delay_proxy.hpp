// A delaying TCP proxy on loopback, for slow links (this kernel has no `tc netem`): it accepts on
// a free 127.0.0.1 port and forwards every connection to `upstream_port`, holding each chunk it
// reads for the delay in force when the chunk arrived, in both directions. Chunks keep their
// order and are pipelined (a stream of chunks is delayed, not slowed to one chunk per delay), as
// on a long link. The delay can change at any time; 0 forwards at once. The destructor closes
// every socket and joins every thread.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace pg_ha::test {

class DelayProxy {
 public:
  explicit DelayProxy(int upstream_port);
  ~DelayProxy();
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  int port() const { return port_; }
  // One-way delay per chunk, from now on (a round trip costs twice this).
  void set_delay_ms(int ms) { delay_ms_ = ms; }
  int delay_ms() const { return delay_ms_; }
  // Chunks forwarded so far (both directions), to check that traffic goes through the proxy.
  long chunks() const { return chunks_; }

 private:
  struct Link;
  void accept_loop();
  void reap_finished();   // joins and closes links whose four threads have ended

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> delay_ms_{0};
  std::atomic<long> chunks_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::list<std::unique_ptr<Link>> links_;
  std::thread acceptor_;
};

}  // namespace pg_ha::test
