// The request engine: endpoint rotation, retries, deadlines and error classification.
#include "etcd/client.hpp"

#include <algorithm>
#include <utility>

#include "etcd/clock.hpp"
#include "etcd/codec.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

namespace {

// Passes over the endpoints in which nothing even answered (all refused) before giving up
// early; while some member answers ("no leader" during an election) we keep trying until the
// deadline.
constexpr int kMaxDeadPasses = 3;
constexpr int64_t kBackoffStepMs = 50;    // pause between passes: 50, 100, 150 ... ms
constexpr int64_t kMaxBackoffMs = 300;
constexpr int64_t kMinAttemptMs = 500;    // a slow endpoint still gets this long, if time allows

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Answers meaning "this member cannot serve now, another may": etcd did not apply the request.
bool not_applied_elsewhere_ok(const std::string& msg) {
  return contains(msg, "no leader") || contains(msg, "not leader") || contains(msg, "not capable") ||
         contains(msg, "too many requests") || contains(msg, "not started");
}

// Transient server-side trouble after which a write may or may not have been applied.
bool transient_maybe_applied(int code, const std::string& msg) {
  return code == codec::kGrpcUnavailable || contains(msg, "request timed out") ||
         contains(msg, "leader changed") || contains(msg, "timeout");
}

bool is_token_error(int code, const std::string& msg) {
  return code == codec::kGrpcUnauthenticated || contains(msg, "invalid auth token") ||
         contains(msg, "user name is empty") || contains(msg, "auth token");
}

Status validate(const Options& o) {
  if (o.endpoints.empty()) return make_error(ErrorKind::Invalid, "etcd: no endpoint configured");
  for (const auto& e : o.endpoints) {
    bool scheme = e.rfind("http://", 0) == 0 || e.rfind("https://", 0) == 0;
    size_t host_at = e.find("://") + 3;
    if (!scheme || e.size() <= host_at || e.back() == '/' || e.find_first_of(" \t\r\n") != std::string::npos) {
      return make_error(ErrorKind::Invalid, "etcd: endpoint \"" + e + "\" is not of the form http(s)://host:port");
    }
  }
  if (o.request_timeout_ms <= 0 || o.connect_timeout_ms <= 0) {
    return make_error(ErrorKind::Invalid, "etcd: request and connect timeouts must be positive");
  }
  if (!o.user.empty() && o.password.empty()) {
    return make_error(ErrorKind::Invalid, "etcd: user \"" + o.user + "\" configured without a password");
  }
  if (std::string p = insecure_auth_problem(o.endpoints, o.user, o.allow_insecure_auth); !p.empty()) {
    return make_error(ErrorKind::Invalid, "etcd: " + p);
  }
  return ok_status();
}

}  // namespace

struct Client::Call {
  CallId id = 0;
  std::string path;
  std::string body;
  bool idempotent = true;
  int64_t started_ms = 0;
  int64_t deadline_ms = 0;
  BodyCallback done;
  size_t endpoint = 0;
  size_t tried_in_cycle = 0;  // endpoints that failed in the current pass
  int cycles = 0;
  int dead_passes = 0;           // passes where no endpoint answered or timed out
  bool pass_saw_server = false;  // something answered (or hung) in the current pass
  bool reauthed = false;
  bool any_timeout = false;
  Transport::Id transfer = 0;
  Timers::Id timer = 0;
  std::vector<std::string> tried;  // distinct endpoints, for the timeout message
  std::string last_failure;        // "http://a: connection refused"
};

Result<std::unique_ptr<Client>> Client::create(Options options) {
  if (Status v = validate(options); !v) return v.error();
  if (Status g = global_init(); !g) return g.error();
  std::unique_ptr<Client> client(new Client(std::move(options)));
  if (!client->transport_.valid()) return make_error(ErrorKind::Internal, "etcd: could not create a curl multi handle");
  return client;
}

Client::Client(Options options) : options_(std::move(options)) {}

Client::~Client() {
  // Transport's destructor drops the transfers; nothing is called back.
  calls_.clear();
}

Client::CallId Client::submit(const char* path, std::string body, bool idempotent, BodyCallback done) {
  auto call = std::make_unique<Call>();
  call->id = next_call_id_++;
  call->path = path;
  call->body = std::move(body);
  call->idempotent = idempotent;
  call->started_ms = now_ms();
  call->deadline_ms = call->started_ms + options_.request_timeout_ms;
  call->done = std::move(done);
  call->endpoint = preferred_;
  CallId id = call->id;
  calls_.emplace(id, std::move(call));
  // Start from perform(), never synchronously: callbacks must not run inside submit_*().
  calls_[id]->timer = timers_.add(now_ms(), [this, id] { attempt(id); });
  return id;
}

void Client::cancel(CallId id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  transport_.cancel(it->second->transfer);
  timers_.cancel(it->second->timer);
  calls_.erase(it);
}

void Client::attempt(CallId id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call& call = *it->second;
  call.timer = 0;
  const std::string& endpoint = options_.endpoints[call.endpoint];
  if (std::find(call.tried.begin(), call.tried.end(), endpoint) == call.tried.end()) call.tried.push_back(endpoint);
  if (!auth_needed()) {
    send(call);
    return;
  }
  call.transfer = authenticate(call.endpoint, call.deadline_ms, [this, id](Status s) {
    auto again = calls_.find(id);
    if (again == calls_.end()) return;
    Call& c = *again->second;
    c.transfer = 0;
    if (s) return send(c);
    if (s.error().kind == ErrorKind::Auth || s.error().kind == ErrorKind::Protocol) return finish(id, s.error());
    on_attempt_failed(c, s.error().message, true);
  });
  if (call.transfer == 0) finish(id, make_error(ErrorKind::Internal, "etcd: could not start a curl transfer"));
}

int64_t Client::attempt_budget_ms(const Call& call) const {
  int64_t remaining = std::max<int64_t>(1, call.deadline_ms - now_ms());
  // A request that cannot be repeated gets all the time left: cutting it short would only make
  // its outcome unknown. Others share the time with the endpoints not yet tried in this pass.
  if (!call.idempotent) return remaining;
  int64_t untried = int64_t(options_.endpoints.size() - call.tried_in_cycle);
  int64_t share = remaining / std::max<int64_t>(1, untried);
  return std::min(remaining, std::max(share, kMinAttemptMs));
}

void Client::send(Call& call) {
  HttpRequest req;
  req.url = options_.endpoints[call.endpoint] + call.path;
  req.body = call.body;
  req.headers = auth_headers();
  req.timeout_ms = attempt_budget_ms(call);
  req.connect_timeout_ms = std::min(options_.connect_timeout_ms, req.timeout_ms);
  req.tls = options_.tls;
  CallId id = call.id;
  call.transfer = transport_.start(std::move(req), [this, id](HttpResponse resp) { on_response(id, std::move(resp)); });
  if (call.transfer == 0) finish(id, make_error(ErrorKind::Internal, "etcd: could not start a curl transfer"));
}

void Client::on_response(CallId id, HttpResponse resp) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call& call = *it->second;
  call.transfer = 0;
  if (!resp.completed) {
    call.any_timeout = call.any_timeout || resp.timed_out;
    call.pass_saw_server = call.pass_saw_server || resp.timed_out;
    on_attempt_failed(call, resp.error, !resp.request_sent || call.idempotent);
    return;
  }
  auto stream_error = resp.http_status == 200 ? codec::decode_error_body(resp.body) : std::nullopt;
  if (resp.http_status != 200 || (stream_error && stream_error->in_stream)) {
    on_grpc_error(call, int(resp.http_status), resp.body);
    return;
  }
  // A keep-alive with a rejected token looks exactly like an expired lease (no TTL, HTTP 200):
  // with auth on, confirm an apparent expiry once with a fresh token before reporting it.
  if (call.path == std::string("/v3/lease/keepalive") && !options_.user.empty() && !call.reauthed &&
      resp.body.find("\"TTL\"") == std::string::npos) {
    call.reauthed = true;
    token_.clear();
    attempt(id);
    return;
  }
  preferred_ = call.endpoint;
  finish(id, std::move(resp.body));
}

void Client::on_grpc_error(Call& call, int http_status, const std::string& body) {
  const std::string& endpoint = options_.endpoints[call.endpoint];
  auto err = codec::decode_error_body(body);
  int code = err ? err->code : 0;
  std::string msg = err && !err->message.empty() ? err->message : "HTTP status " + std::to_string(http_status);
  if (!options_.user.empty() && is_token_error(code, msg) && !call.reauthed) {
    call.reauthed = true;  // token expired or lost with an etcd restart: once, transparently
    token_.clear();
    attempt(call.id);
    return;
  }
  if (is_token_error(code, msg)) {
    finish(call.id, make_error(ErrorKind::Auth, "etcd " + endpoint + ": " + msg +
                                                    (options_.user.empty() ? " (etcd requires a user and password)" : "")));
    return;
  }
  call.pass_saw_server = true;
  if (not_applied_elsewhere_ok(msg) || http_status == 502 || http_status == 503) {
    on_attempt_failed(call, msg, true);
    return;
  }
  if (transient_maybe_applied(code, msg)) {
    on_attempt_failed(call, msg, call.idempotent);
    return;
  }
  ErrorKind kind = ErrorKind::Invalid;
  if (code == codec::kGrpcNotFound) kind = ErrorKind::NotFound;
  else if (code == codec::kGrpcUnauthenticated || code == codec::kGrpcPermissionDenied) kind = ErrorKind::Auth;
  else if (code == codec::kGrpcOutOfRange && contains(msg, "compacted")) kind = ErrorKind::Compacted;
  else if (!err) kind = ErrorKind::Protocol;
  finish(call.id, make_error(kind, "etcd " + endpoint + ": " + msg));
}

void Client::on_attempt_failed(Call& call, const std::string& why, bool may_retry) {
  const std::string& endpoint = options_.endpoints[call.endpoint];
  call.last_failure = endpoint + ": " + why;
  if (!may_retry) {
    finish(call.id, make_error(call.any_timeout ? ErrorKind::Timeout : ErrorKind::Unavailable, "etcd " + call.last_failure +
                                                           "; the request may or may not have been applied (outcome unknown)"));
    return;
  }
  call.endpoint = (call.endpoint + 1) % options_.endpoints.size();
  int64_t delay_ms = 0;
  if (++call.tried_in_cycle >= options_.endpoints.size()) {
    call.tried_in_cycle = 0;
    ++call.cycles;
    if (!call.pass_saw_server && ++call.dead_passes >= kMaxDeadPasses) return finish(call.id, exhausted_error(call));
    call.pass_saw_server = false;
    delay_ms = std::min(kMaxBackoffMs, kBackoffStepMs * call.cycles);
  }
  if (now_ms() + delay_ms >= call.deadline_ms) return finish(call.id, exhausted_error(call));
  CallId id = call.id;
  call.timer = timers_.add(now_ms() + delay_ms, [this, id] { attempt(id); });
}

Error Client::exhausted_error(const Call& call) const {
  if (call.any_timeout || now_ms() >= call.deadline_ms) {
    std::string tried;
    for (const auto& e : call.tried) tried += (tried.empty() ? "" : ", ") + e;
    return make_error(ErrorKind::Timeout, "etcd: request timed out after " + std::to_string(options_.request_timeout_ms) +
                                              " ms (tried " + tried + "; last error: " + call.last_failure + ")");
  }
  if (options_.endpoints.size() == 1) return make_error(ErrorKind::Unavailable, "etcd " + call.last_failure);
  return make_error(ErrorKind::Unavailable, "etcd: no endpoint could serve the request (last error: " + call.last_failure + ")");
}

void Client::finish(CallId id, Result<std::string> result) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  transport_.cancel(call->transfer);
  timers_.cancel(call->timer);
  if (call->done) call->done(std::move(result), options_.endpoints[call->endpoint]);
}

void Client::expire_calls() {
  int64_t now = now_ms();
  std::vector<CallId> expired;
  for (const auto& [id, call] : calls_) {
    if (now >= call->deadline_ms) expired.push_back(id);
  }
  for (CallId id : expired) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Call& call = *it->second;
    call.any_timeout = true;
    if (call.last_failure.empty()) call.last_failure = options_.endpoints[call.endpoint] + ": no answer";
    Error e = exhausted_error(call);
    if (!call.idempotent && call.transfer != 0) e.message += "; the outcome of the request is unknown";
    finish(id, e);
  }
}

int64_t Client::timeout_ms() const {
  int64_t now = now_ms();
  int64_t best = transport_.timeout_ms();
  auto consider = [&](int64_t deadline_ms) {
    if (deadline_ms < 0) return;
    int64_t left = std::max<int64_t>(0, deadline_ms - now);
    best = best < 0 ? left : std::min(best, left);
  };
  consider(timers_.next_deadline_ms());
  for (const auto& [id, call] : calls_) consider(call->deadline_ms);
  return best;
}

void Client::on_socket_ready(int fd, bool readable, bool writable) {
  transport_.on_socket_ready(fd, readable, writable);
  deliver_watch_events();
}

void Client::perform() {
  transport_.perform();
  deliver_watch_events();
  timers_.run_due(now_ms());
  expire_calls();
}

void Client::deliver_watch_events() {
  // A callback may destroy any watch: re-check membership before each call.
  std::vector<Watch*> snapshot(watches_.begin(), watches_.end());
  for (Watch* w : snapshot) {
    if (watches_.count(w)) w->process_lines();
  }
}

std::unique_ptr<Watch> Client::watch(WatchRequest req, Watch::EventsCallback on_events, Watch::ErrorCallback on_error) {
  std::unique_ptr<Watch> w(new Watch(*this, std::move(req), std::move(on_events), std::move(on_error)));
  watches_.insert(w.get());
  w->connect();
  return w;
}

}  // namespace pg_ha::etcd
