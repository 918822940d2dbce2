// A long-lived etcd watch (POST /v3/watch, one JSON object per line), made by Client::watch().
//
// Guarantees: events arrive in revision order, each exactly once, across dropped streams. The
// watch remembers the last delivered revision; when its stream ends (member died, connection
// reset, no "created" answer within the request timeout) it reconnects to the next endpoint and
// resumes from last_revision()+1. If etcd has compacted that revision the watch stops with
// ErrorKind::Compacted: re-read the state (range), then start a new watch from its revision+1.
// Other terminal errors: Auth (bad credentials, permission denied), Invalid (etcd refused the
// request). Transient trouble is retried for ever with back-off; connected() and
// last_transient_error() tell how things stand.
//
// Two forms:
//  - callbacks (event loop): on_events gets each batch (one etcd revision's events are never
//    split), on_error the terminal error; both run from Client::perform()/on_socket_ready().
//  - no callbacks (blocking): poll(timeout_ms) returns what arrived, waiting up to timeout_ms.
// A Watch must be destroyed before its Client. Destroying it closes the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "etcd/types.hpp"

namespace pg_ha::etcd {

class Client;

class Watch {
 public:
  using EventsCallback = std::function<void(std::vector<WatchEvent>)>;
  using ErrorCallback = std::function<void(const Error&)>;

  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Blocking form: buffered events, else waits up to timeout_ms for some (empty on timeout).
  // Returns the terminal error once the watch has stopped, or Interrupted.
  Result<std::vector<WatchEvent>> poll(int64_t timeout_ms);

  int64_t last_revision() const { return next_revision_ > 0 ? next_revision_ - 1 : 0; }
  bool connected() const { return created_; }
  bool stopped() const { return terminal_.has_value(); }
  const std::string& last_transient_error() const { return last_transient_error_; }
  int reconnects() const { return reconnects_; }

 private:
  friend class Client;
  Watch(Client& client, WatchRequest req, EventsCallback on_events, ErrorCallback on_error);
  void connect();
  void open_stream();
  bool feed(const char* data, size_t size);  // inside curl's write callback: buffer only
  void process_lines();                      // outside curl: decode, deliver, react
  void handle_message(const WatchMessage& m);
  void on_stream_end(const std::string& why);
  void reconnect_later(const std::string& why);
  void stop(Error error);
  void close_stream();

  Client& client_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
  WatchRequest req_;
  EventsCallback on_events_;
  ErrorCallback on_error_;
  int64_t next_revision_ = 0;  // revision to resume from; 0 = "now" (before the first created)
  size_t endpoint_ = 0;
  uint64_t transfer_ = 0;
  uint64_t timer_ = 0;
  bool created_ = false;
  bool reauthed_ = false;
  bool reconnecting_ = false;  // a reconnect timer is armed
  int failures_in_row_ = 0;
  int reconnects_ = 0;
  std::string partial_line_;
  std::deque<std::string> lines_;
  bool stream_abort_ = false;
  std::vector<WatchEvent> buffered_;  // blocking form
  std::optional<Error> terminal_;
  std::string last_transient_error_;
};

}  // namespace pg_ha::etcd
