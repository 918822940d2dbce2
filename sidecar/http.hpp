// The health-check HTTP server (cpp-httplib, its own threads): GET/HEAD/OPTIONS on
// /primary /replica /read-only /readiness /health /liveness /metrics /cluster; `?lag=` on the
// replica checks; anything else 404. Answers come from Health; the server never sees a secret.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "health.hpp"

namespace httplib {
class Server;
}

namespace pg_ha::sidecar {

class HttpServer {
 public:
  explicit HttpServer(Health& health);
  ~HttpServer();
  // Binds host:port and serves in a background thread.
  Status start(const std::string& host, int port);
  void stop();

 private:
  Health& health_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace pg_ha::sidecar
