// HTTP over one libcurl multi handle: many concurrent transfers, no thread, no blocking call.
// The owner drives it from its event loop (see client.hpp for the latch-loop recipe): wait on
// sockets() and timeout_ms(), then call on_socket_ready() / perform(). Completion callbacks run
// from those two calls, never from inside a curl callback, so they may start or cancel transfers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "etcd/options.hpp"

namespace pg_ha::etcd {

// curl_global_init, once per process. Not thread-safe: call it before starting threads, and in
// a PostgreSQL background worker after the fork (not in _PG_init of the postmaster). Client
// creation calls it too, so calling it yourself only moves the cost earlier.
Status global_init();

struct SocketInterest {
  int fd = -1;
  bool read = false;
  bool write = false;
};

struct HttpRequest {
  std::string url;
  std::string body;                  // POSTed as application/json
  std::vector<std::string> headers;  // extra "Name: value" lines
  int64_t timeout_ms = 0;            // whole transfer; 0 = none (streams; they rely on keep-alive)
  int64_t connect_timeout_ms = 1000;
  TlsOptions tls;
  // Streams: each chunk as it arrives, from inside curl's write callback, so it must not call the
  // Transport. Return false to abort the transfer. When set, the body is not accumulated.
  std::function<bool(const char* data, size_t size)> on_data;
};

struct HttpResponse {
  bool completed = false;     // the HTTP exchange finished (any status)
  std::string error;          // why not, in words ("connection refused", "timed out after 500 ms")
  bool timed_out = false;
  bool request_sent = true;   // false: the peer cannot have seen the request; safe to retry
  long http_status = 0;
  std::string body;
};

class Transport {
 public:
  using Id = uint64_t;
  using Done = std::function<void(HttpResponse)>;

  Transport();
  ~Transport();  // aborts every transfer without calling its callback
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  bool valid() const { return multi_ != nullptr; }
  Id start(HttpRequest request, Done done);  // 0 if curl could not even create the transfer
  void cancel(Id id);                        // no callback; unknown ids are ignored
  size_t active() const { return transfers_.size(); }

  std::vector<SocketInterest> sockets() const;
  uint64_t sockets_version() const { return sockets_version_; }  // changes when sockets() does
  int64_t timeout_ms() const;  // until curl's next timer; -1 = none
  void on_socket_ready(int fd, bool readable, bool writable);
  void perform();  // runs a due timer and dispatches completions

  struct Transfer;  // internal

 private:
  friend struct TransportCallbacks;  // curl's C callbacks, in transport.cpp
  void socket_action(int fd, int mask);
  void dispatch_completions();

  void* multi_ = nullptr;  // CURLM*, kept opaque so that users need no curl headers
  Id next_id_ = 1;
  std::map<Id, std::unique_ptr<Transfer>> transfers_;
  std::map<int, SocketInterest> sockets_;
  uint64_t sockets_version_ = 0;
  int64_t timer_deadline_ms_ = -1;
};

}  // namespace pg_ha::etcd
