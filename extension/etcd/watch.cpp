#include "etcd/watch.hpp"

#include <algorithm>
#include <utility>

#include "etcd/client.hpp"
#include "etcd/clock.hpp"
#include "etcd/codec.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

namespace {

constexpr size_t kMaxLineBytes = 64u << 20;
constexpr int64_t kMaxBackoffMs = 1000;

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

Watch::Watch(Client& client, WatchRequest req, EventsCallback on_events, ErrorCallback on_error)
    : client_(client), req_(std::move(req)), on_events_(std::move(on_events)), on_error_(std::move(on_error)) {
  next_revision_ = req_.start_revision;
  endpoint_ = client_.preferred_;
}

Watch::~Watch() {
  *alive_ = false;
  close_stream();
  client_.watches_.erase(this);
}

void Watch::connect() {
  reconnecting_ = false;
  if (terminal_) return;
  if (!client_.auth_needed()) return open_stream();
  int64_t deadline_ms = now_ms() + client_.options_.request_timeout_ms;
  transfer_ = client_.authenticate(endpoint_, deadline_ms, [this](Status s) {
    transfer_ = 0;
    if (s) return open_stream();
    if (s.error().kind == ErrorKind::Auth || s.error().kind == ErrorKind::Protocol) return stop(s.error());
    reconnect_later(s.error().message);
  });
}

void Watch::open_stream() {
  const Options& o = client_.options_;
  WatchRequest create = req_;
  create.start_revision = next_revision_;  // resume exactly after the last delivered revision
  HttpRequest http;
  http.url = o.endpoints[endpoint_] + "/v3/watch";
  http.body = codec::encode_watch_create(create);
  http.headers = client_.auth_headers();
  http.timeout_ms = 0;  // a stream: no overall limit; dead peers are found by TCP keep-alive
  http.connect_timeout_ms = o.connect_timeout_ms;
  http.tls = o.tls;
  http.on_data = [this](const char* data, size_t size) { return feed(data, size); };
  created_ = false;
  stream_abort_ = false;
  partial_line_.clear();
  transfer_ = client_.transport_.start(std::move(http), [this](HttpResponse r) {
    transfer_ = 0;
    std::string why = r.completed ? "watch stream closed by etcd (HTTP " + std::to_string(r.http_status) + ")" : r.error;
    on_stream_end(why);
  });
  if (transfer_ == 0) return stop(make_error(ErrorKind::Internal, "etcd: could not start a curl transfer"));
  // A stream that never confirms creation is as good as dead.
  timer_ = client_.timers_.add(now_ms() + o.request_timeout_ms, [this] {
    timer_ = 0;
    if (!created_) reconnect_later("no watch confirmation within " + std::to_string(client_.options_.request_timeout_ms) + " ms");
  });
}

bool Watch::feed(const char* data, size_t size) {
  if (stream_abort_) return false;
  size_t start = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != '\n') continue;
    partial_line_.append(data + start, i - start);
    lines_.push_back(std::move(partial_line_));
    partial_line_.clear();
    start = i + 1;
  }
  partial_line_.append(data + start, size - start);
  if (partial_line_.size() > kMaxLineBytes) stream_abort_ = true;  // hostile or broken peer
  return !stream_abort_;
}

void Watch::process_lines() {
  std::shared_ptr<bool> alive = alive_;  // a callback may destroy this watch
  while (*alive && !lines_.empty() && !terminal_) {
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto message = codec::decode_watch_line(line);
    if (!message) {
      auto err = codec::decode_error_body(line);
      reconnect_later(err ? "watch stream error: " + err->message : message.error().message);
      return;
    }
    handle_message(message.value());
  }
}

void Watch::handle_message(const WatchMessage& m) {
  if (m.canceled) {
    if (m.compact_revision > 0) {
      return stop(make_error(ErrorKind::Compacted, "etcd: watch cannot resume from revision " + std::to_string(next_revision_) +
                                                       ": history was compacted up to revision " +
                                                       std::to_string(m.compact_revision) + "; re-read the state and watch again"));
    }
    bool token_problem = contains(m.cancel_reason, "Unauthenticated") || contains(m.cancel_reason, "auth token") ||
                         contains(m.cancel_reason, "user name is empty");
    if (token_problem && !reauthed_ && !client_.options_.user.empty()) {
      reauthed_ = true;
      client_.token_.clear();
      return reconnect_later(m.cancel_reason);
    }
    ErrorKind kind = token_problem || contains(m.cancel_reason, "ermission") ? ErrorKind::Auth : ErrorKind::Invalid;
    return stop(make_error(kind, "etcd " + client_.options_.endpoints[endpoint_] + ": watch canceled: " + m.cancel_reason));
  }
  if (m.created) {
    created_ = true;
    reauthed_ = false;
    failures_in_row_ = 0;
    client_.timers_.cancel(timer_);
    timer_ = 0;
    if (next_revision_ == 0) next_revision_ = m.header_revision + 1;  // "from now": pin "now"
  }
  std::vector<WatchEvent> fresh;
  for (const WatchEvent& ev : m.events) {
    if (ev.kv.mod_revision < next_revision_) continue;  // already delivered before a reconnect
    fresh.push_back(ev);
  }
  if (fresh.empty()) return;
  for (const WatchEvent& ev : fresh) next_revision_ = std::max(next_revision_, ev.kv.mod_revision + 1);
  if (on_events_) return on_events_(std::move(fresh));
  buffered_.insert(buffered_.end(), std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()));
}

void Watch::on_stream_end(const std::string& why) {
  std::shared_ptr<bool> alive = alive_;
  process_lines();  // what arrived before the end is still valid and in order
  if (!*alive || terminal_ || reconnecting_) return;  // stopped, or a line already made it reconnect
  reconnect_later(why);
}

void Watch::reconnect_later(const std::string& why) {
  close_stream();
  const auto& endpoints = client_.options_.endpoints;
  last_transient_error_ = "etcd " + endpoints[endpoint_] + ": " + why;
  endpoint_ = (endpoint_ + 1) % endpoints.size();
  ++reconnects_;
  reconnecting_ = true;
  int64_t delay_ms = std::min<int64_t>(kMaxBackoffMs, 50 * failures_in_row_);
  ++failures_in_row_;
  timer_ = client_.timers_.add(now_ms() + delay_ms, [this] {
    timer_ = 0;
    connect();
  });
}

void Watch::stop(Error error) {
  close_stream();
  terminal_ = error;
  if (on_error_) on_error_(error);
}

void Watch::close_stream() {
  if (transfer_ != 0) client_.transport_.cancel(transfer_);
  transfer_ = 0;
  if (timer_ != 0) client_.timers_.cancel(timer_);
  timer_ = 0;
  created_ = false;
  reconnecting_ = false;
  lines_.clear();
  partial_line_.clear();
}

Result<std::vector<WatchEvent>> Watch::poll(int64_t timeout_ms) {
  auto take = [this] {
    std::vector<WatchEvent> out;
    out.swap(buffered_);
    return out;
  };
  if (!buffered_.empty()) return take();
  if (terminal_) return *terminal_;
  Status s = client_.run_until([this] { return !buffered_.empty() || terminal_.has_value(); }, timeout_ms);
  if (!buffered_.empty()) return take();
  if (terminal_) return *terminal_;
  if (!s && s.error().kind == ErrorKind::Interrupted) return s.error();
  return std::vector<WatchEvent>{};
}

}  // namespace pg_ha::etcd
