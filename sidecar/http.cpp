#include "http.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "http_request.hpp"
#include "log.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollSliceMs = 200;   // how soon a waiting thread notices stop()

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline; false on timeout, stop or error.
bool wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& stopping) {
  for (;;) {
    int left = ms_left(deadline);
    if (left == 0 || stopping) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, std::min(left, kPollSliceMs));
    if (n < 0 && errno != EINTR) return false;
    if (n > 0) return true;
  }
}

size_t head_end(const std::string& buf) {
  size_t crlf = buf.find("\r\n\r\n");
  size_t lf = buf.find("\n\n");
  if (crlf != std::string::npos && (lf == std::string::npos || crlf + 2 < lf)) return crlf + 4;
  return lf == std::string::npos ? std::string::npos : lf + 2;
}

// A connection whose request head is still arriving.
struct Reading {
  int fd;
  Clock::time_point deadline;
  std::string buf;
};

// Best effort, never blocks: for answers given by the reading thread itself.
void send_now(int fd, const std::string& reply) { (void)send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT); }

}  // namespace

HttpServer::HttpServer(HealthChecks& checks, HttpLimits limits) : checks_(checks), limits_(limits) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  std::string where = host + ":" + std::to_string(port);
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &ai) != 0 || !ai)
    return make_error(ErrorKind::Unavailable, "cannot resolve the HTTP listen address " + where);
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  int one = 1;
  bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, limits_.listen_backlog) == 0;
  std::string why = std::strerror(errno);
  freeaddrinfo(ai);
  if (!ok) {
    if (fd >= 0) close(fd);
    return make_error(ErrorKind::Unavailable, "cannot listen for HTTP on " + where + ": " + why);
  }
  listen_fd_ = fd;
  for (size_t i = 0; i < limits_.threads; ++i) workers_.emplace_back([this] { work(); });
  reader_ = std::thread([this] { read_loop(); });
  log_info("HTTP health checks on http://" + where);
  return ok_status();
}

void HttpServer::stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  ready_.notify_all();
  if (reader_.joinable()) reader_.join();
  for (auto& t : workers_) t.join();
  workers_.clear();
  for (const Job& j : jobs_) close(j.fd);
  jobs_.clear();
  close(listen_fd_);
  listen_fd_ = -1;
}

// Reads every connection's request head in this one thread, so a slow or idle client costs a
// descriptor and a little memory, never a worker.
void HttpServer::read_loop() {
  std::vector<Reading> conns;
  std::vector<pollfd> fds;
  char chunk[4096];
  while (!stopping_) {
    fds.assign(1, pollfd{listen_fd_, POLLIN, 0});
    int timeout = kPollSliceMs;
    for (const Reading& c : conns) {
      fds.push_back(pollfd{c.fd, POLLIN, 0});
      timeout = std::min(timeout, ms_left(c.deadline));
    }
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) continue;
    std::vector<Reading> still;
    for (size_t i = 0; i < conns.size(); ++i) {
      Reading& c = conns[i];
      bool done = false;
      if (fds[i + 1].revents) {
        ssize_t n = recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) c.buf.append(chunk, static_cast<size_t>(n));
        bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
        size_t end = head_end(c.buf);
        if (gone) {
          close(c.fd);
          done = true;
        } else if (end != std::string::npos && end <= kMaxRequestHeadBytes) {
          hand_over(Job{c.fd, c.buf.substr(0, end)});
          done = true;
        } else if (c.buf.size() > kMaxRequestHeadBytes) {
          hand_over(Job{c.fd, ""});
          done = true;
        }
      }
      if (!done && ms_left(c.deadline) == 0) {   // too slow: no answer, the client gave us none
        close(c.fd);
        done = true;
      }
      if (!done) still.push_back(std::move(c));
    }
    conns.swap(still);
    if (!(fds[0].revents & POLLIN)) continue;
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) break;   // EAGAIN, or out of descriptors: the backlog holds the rest
      if (conns.size() >= limits_.max_connections) {   // evict the oldest unfinished head
        close(conns.front().fd);
        conns.erase(conns.begin());
      }
      conns.push_back(Reading{fd, Clock::now() + std::chrono::milliseconds(limits_.head_timeout_ms), {}});
    }
  }
  for (const Reading& c : conns) close(c.fd);
}

// Queues a complete head for a worker; when all are busy and the queue is full, answers 503 at
// once. Takes ownership of job.fd either way.
bool HttpServer::hand_over(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (jobs_.size() < limits_.queued) {
      jobs_.push_back(std::move(job));
      ready_.notify_one();
      return true;
    }
  }
  send_now(job.fd, render_response(problem_answer(503, "the health-check server is busy"), false));
  close(job.fd);
  return false;
}

void HttpServer::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    answer(job);
    close(job.fd);
  }
}

// Runs the check, writes the answer within the write timeout, then drains a little of whatever
// the client still sends (a body we do not read) so that it can read the answer before the
// kernel resets the connection.
void HttpServer::answer(const Job& job) {
  std::string reply = job.head.empty() ? render_response(problem_answer(431, "request head larger than 8 KiB"), false)
                                       : respond(checks_, job.head);
  auto deadline = Clock::now() + std::chrono::milliseconds(limits_.write_timeout_ms);
  for (size_t sent = 0; sent < reply.size();) {
    if (!wait_for(job.fd, POLLOUT, deadline, stopping_)) return;
    ssize_t n = send(job.fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
  shutdown(job.fd, SHUT_WR);
  char chunk[4096];
  auto drain_until = Clock::now() + std::chrono::milliseconds(200);
  for (size_t drained = 0; drained < (1 << 16) && wait_for(job.fd, POLLIN, drain_until, stopping_);) {
    ssize_t n = recv(job.fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
    if (n > 0) drained += static_cast<size_t>(n);
  }
}

}  // namespace pg_ha::sidecar
