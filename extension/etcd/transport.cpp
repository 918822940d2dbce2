#include "etcd/transport.hpp"

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "etcd/clock.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

namespace {
constexpr size_t kMaxResponseBytes = 64u << 20;  // etcd's own request limit is 1.5 MiB by default
}

struct Transport::Transfer {
  Id id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  Done done;
  std::string response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  bool too_large = false;

  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

struct TransportCallbacks {
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* t = static_cast<Transport*>(self);
    if (what == CURL_POLL_REMOVE) {
      t->sockets_.erase(fd);
    } else {
      bool read = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
      bool write = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
      t->sockets_[fd] = SocketInterest{fd, read, write};
    }
    ++t->sockets_version_;
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto* t = static_cast<Transport*>(self);
    t->timer_deadline_ms_ = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
  }

  // Keep-alive probes give up after 3 misses (curl 7.88 has no option for it), and unacknowledged
  // data fails the connection after 10 s: a silently partitioned peer is noticed in ~11 s.
  static int on_sockopt(void*, curl_socket_t fd, curlsocktype purpose) {
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKOPT_OK;
    int probes = 3;
    unsigned int user_timeout_ms = 10000;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
    return CURL_SOCKOPT_OK;
  }

  static size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* tr = static_cast<Transport::Transfer*>(user);
    size_t n = size * count;
    if (tr->request.on_data) return tr->request.on_data(data, n) ? n : 0;
    if (tr->response.size() + n > kMaxResponseBytes) {
      tr->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    tr->response.append(data, n);
    return n;
  }
};

Status global_init() {
  static bool done = false;
  static CURLcode rc = CURLE_OK;
  if (!done) {
    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    done = true;
  }
  if (rc != CURLE_OK) return make_error(ErrorKind::Internal, std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  return ok_status();
}

Transport::Transport() {
  if (!global_init()) return;
  CURLM* multi = curl_multi_init();
  if (!multi) return;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &TransportCallbacks::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &TransportCallbacks::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  multi_ = multi;
}

Transport::~Transport() {
  auto* multi = static_cast<CURLM*>(multi_);
  for (auto& [id, tr] : transfers_) curl_multi_remove_handle(multi, tr->easy);
  transfers_.clear();
  if (multi) curl_multi_cleanup(multi);
}

namespace {

void set_tls(CURL* easy, const TlsOptions& tls) {
  // Verification stays on; only the trust anchors and client identity are configurable.
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!tls.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca_file.c_str());
  if (!tls.cert_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, tls.cert_file.c_str());
  if (!tls.key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, tls.key_file.c_str());
}

void set_common(CURL* easy, Transport::Transfer* tr) {
  const HttpRequest& r = tr->request;
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // loopback and cluster traffic never via an env proxy
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
  // Dead peers of long streams (a crashed host) are found by TCP keep-alive.
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 5L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 2L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, &TransportCallbacks::on_sockopt);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &TransportCallbacks::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, tr);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, tr->errbuf);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, tr);
}

}  // namespace

Transport::Id Transport::start(HttpRequest request, Done done) {
  if (!multi_) return 0;
  auto tr = std::make_unique<Transfer>();
  tr->id = next_id_++;
  tr->request = std::move(request);
  tr->done = std::move(done);
  tr->easy = curl_easy_init();
  if (!tr->easy) return 0;
  // "Expect:" off: curl would otherwise wait up to 1 s for "100 Continue" on larger bodies.
  tr->headers = curl_slist_append(nullptr, "Content-Type: application/json");
  tr->headers = curl_slist_append(tr->headers, "Expect:");
  for (const auto& h : tr->request.headers) tr->headers = curl_slist_append(tr->headers, h.c_str());
  set_common(tr->easy, tr.get());
  curl_easy_setopt(tr->easy, CURLOPT_HTTPHEADER, tr->headers);
  set_tls(tr->easy, tr->request.tls);
  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), tr->easy) != CURLM_OK) return 0;
  Id id = tr->id;
  transfers_.emplace(id, std::move(tr));
  return id;
}

void Transport::cancel(Id id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), it->second->easy);
  transfers_.erase(it);
}

std::vector<SocketInterest> Transport::sockets() const {
  std::vector<SocketInterest> out;
  out.reserve(sockets_.size());
  for (const auto& [fd, s] : sockets_) {
    if (s.read || s.write) out.push_back(s);
  }
  return out;
}

int64_t Transport::timeout_ms() const {
  if (timer_deadline_ms_ < 0) return -1;
  int64_t left = timer_deadline_ms_ - now_ms();
  return left < 0 ? 0 : left;
}

void Transport::socket_action(int fd, int mask) {
  int running = 0;
  curl_multi_socket_action(static_cast<CURLM*>(multi_), fd, mask, &running);
}

void Transport::on_socket_ready(int fd, bool readable, bool writable) {
  if (!multi_) return;
  int mask = (readable ? CURL_CSELECT_IN : 0) | (writable ? CURL_CSELECT_OUT : 0);
  socket_action(fd, mask);
  dispatch_completions();
}

void Transport::perform() {
  if (!multi_) return;
  if (timer_deadline_ms_ >= 0 && now_ms() >= timer_deadline_ms_) {
    timer_deadline_ms_ = -1;  // curl re-arms it from inside socket_action when needed
    socket_action(CURL_SOCKET_TIMEOUT, 0);
  }
  dispatch_completions();
}

namespace {

std::string describe_failure(CURLcode code, const char* errbuf, bool too_large, int64_t timeout_ms, bool connected) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      if (detail.find("refused") != std::string::npos || detail.find("Couldn't connect") != std::string::npos) {
        return "connection refused";
      }
      return "could not connect: " + detail;
    case CURLE_OPERATION_TIMEDOUT:
      return std::string(connected ? "no answer within " : "could not connect within ") + std::to_string(timeout_ms) + " ms";
    case CURLE_WRITE_ERROR:
      return too_large ? "response larger than 64 MiB" : "response stream aborted";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
      return "TLS failure: " + detail;
    default:
      return detail;
  }
}

}  // namespace

void Transport::dispatch_completions() {
  auto* multi = static_cast<CURLM*>(multi_);
  std::vector<std::pair<Id, CURLcode>> finished;
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* tr = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &tr);
    if (tr) finished.emplace_back(tr->id, msg->data.result);
  }
  // Callbacks run after curl is done with the multi handle, so they may start or cancel transfers.
  for (auto [id, code] : finished) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;  // cancelled by an earlier callback
    std::unique_ptr<Transfer> tr = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi, tr->easy);
    HttpResponse resp;
    long request_bytes = 0;
    curl_easy_getinfo(tr->easy, CURLINFO_REQUEST_SIZE, &request_bytes);
    resp.request_sent = request_bytes > 0;
    if (code == CURLE_OK) {
      resp.completed = true;
      curl_easy_getinfo(tr->easy, CURLINFO_RESPONSE_CODE, &resp.http_status);
      resp.body = std::move(tr->response);
    } else {
      resp.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      int64_t limit_ms = tr->request.timeout_ms;
      if (!resp.request_sent && resp.timed_out) limit_ms = std::min(limit_ms, tr->request.connect_timeout_ms);
      resp.error = describe_failure(code, tr->errbuf, tr->too_large, limit_ms, resp.request_sent);
    }
    Done done = std::move(tr->done);
    tr.reset();
    if (done) done(std::move(resp));
  }
}

}  // namespace pg_ha::etcd
