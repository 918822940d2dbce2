#include "harness/fake_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace pg_ha::test {

namespace {

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

// Reads one request (headers + Content-Length body); false on EOF, error or 2 s of silence.
bool read_request(int fd, FakeHttpRequest* req) {
  std::string buf;
  char tmp[4096];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::istringstream lines(buf.substr(0, header_end));
        std::string line;
        std::getline(lines, line);
        std::istringstream first(line);
        first >> req->method >> req->path;
        while (std::getline(lines, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          req->headers.push_back(line);
          if (strncasecmp(line.c_str(), "content-length:", 15) == 0) content_length = std::stoul(line.substr(15));
        }
      }
    }
    if (header_end != std::string::npos && buf.size() >= header_end + 4 + content_length) {
      req->body = buf.substr(header_end + 4, content_length);
      return true;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return false;
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, size_t(n));
  }
}

std::string hex(size_t n) {
  std::ostringstream os;
  os << std::hex << n;
  return os.str();
}

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::listen(listen_fd_, 16) != 0) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error(std::string("FakeHttpServer: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void FakeHttpServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
    ::close(fd);
  }
}

void FakeHttpServer::serve(int fd) {
  FakeHttpRequest req;
  if (!read_request(fd, &req)) return;
  ++requests_;
  FakeHttpResponse resp = handler_(req);
  std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  if (!send_all(fd, head)) return;
  for (const auto& chunk : resp.chunks) {
    if (stop_) return;
    if (!chunk.empty() && !send_all(fd, hex(chunk.size()) + "\r\n" + chunk + "\r\n")) return;
    if (resp.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(resp.delay_ms));
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(resp.keep_open_ms);
  while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!resp.truncate) send_all(fd, "0\r\n\r\n");
}

}  // namespace pg_ha::test
