// A scripted HTTP/1.1 server on a free loopback port, for feeding clients answers no real server
// would give (garbage, wrong types, lines split across packets). One thread, one connection at a
// time, "Connection: close" after each answer.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace pg_ha::test {

struct FakeHttpRequest {
  std::string method, path, body;
  std::vector<std::string> headers;  // raw "Name: value" lines
};

struct FakeHttpResponse {
  int status = 200;
  // Sent in this order, with delay_ms between chunks (a chunked body: tests split lines freely).
  std::vector<std::string> chunks;
  int delay_ms = 0;
  bool truncate = false;  // close without ending the chunked body: a lost answer
  int keep_open_ms = 0;  // for streams: hold the connection this long after the last chunk
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeHttpResponse(const FakeHttpRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();  // stops the thread, closes every socket
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  void run();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace pg_ha::test
