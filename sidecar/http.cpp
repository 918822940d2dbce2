#include "http.hpp"

#include <functional>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "log.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

void send(httplib::Response& res, const HealthAnswer& a) {
  res.status = a.status;
  res.set_content(a.body, a.content_type.c_str());
}

void bad_request(httplib::Response& res, const std::string& message) {
  res.status = 400;
  res.set_content(nlohmann::json{{"problem", message}}.dump() + "\n", "application/json");
}

// `?lag=` as bytes; false (and a 400 already set) when it does not parse.
bool lag_param(const httplib::Request& req, httplib::Response& res, std::optional<int64_t>* lag) {
  if (!req.has_param("lag")) return true;
  auto parsed = parse_lag(req.get_param_value("lag"));
  if (!parsed) {
    bad_request(res, parsed.error().message);
    return false;
  }
  *lag = *parsed;
  return true;
}

}  // namespace

HttpServer::HttpServer(Health& health) : health_(health), server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, int port) {
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  Health& h = health_;
  const std::vector<std::pair<std::string, Handler>> routes = {
      {"/primary", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.primary()); }},
      {"/master", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.primary()); }},
      {"/leader", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.primary()); }},
      {"/replica", [&h](const httplib::Request& req, httplib::Response& res) {
         std::optional<int64_t> lag;
         if (lag_param(req, res, &lag)) send(res, h.replica(lag));
       }},
      {"/read-only", [&h](const httplib::Request& req, httplib::Response& res) {
         std::optional<int64_t> lag;
         if (lag_param(req, res, &lag)) send(res, h.read_only(lag));
       }},
      {"/readiness", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.readiness()); }},
      {"/health", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.health()); }},
      {"/liveness", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.liveness()); }},
      {"/metrics", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.metrics()); }},
      {"/cluster", [&h](const httplib::Request&, httplib::Response& res) { send(res, h.cluster()); }},
  };
  for (const auto& [path, handler] : routes) {
    server_->Get(path, handler);      // HEAD is answered by the GET handlers
    server_->Options(path, handler);  // HAProxy's default httpchk method
  }
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404)
      res.set_content(nlohmann::json{{"problem", "no such endpoint"}, {"path", req.path}}.dump() + "\n", "application/json");
  });
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  if (!server_->bind_to_port(host.c_str(), port))
    return make_error(ErrorKind::Unavailable, "cannot listen for HTTP on " + host + ":" + std::to_string(port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log_info("HTTP health checks on http://" + host + ":" + std::to_string(port));
  return ok_status();
}

void HttpServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace pg_ha::sidecar
