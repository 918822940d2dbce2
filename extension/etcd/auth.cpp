// etcd user/password authentication: the token is shared by every request and watch of a Client.
#include <utility>

#include "etcd/client.hpp"
#include "etcd/clock.hpp"
#include "etcd/codec.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

std::vector<std::string> Client::auth_headers() const {
  // "hasleader" (gRPC metadata through the gateway's Grpc-Metadata- prefix): a member cut off
  // from its quorum answers "no leader" at once, so we move on to another member, and it cancels
  // our watch streams instead of leaving them silently without events.
  std::vector<std::string> headers = {"Grpc-Metadata-hasleader: true"};
  if (!token_.empty()) headers.push_back("Authorization: " + token_);  // raw, not "Bearer"
  return headers;
}

Transport::Id Client::authenticate(size_t endpoint, int64_t deadline_ms, std::function<void(Status)> done) {
  const std::string url = options_.endpoints[endpoint];
  HttpRequest req;
  req.url = url + "/v3/auth/authenticate";
  req.body = codec::encode_authenticate(options_.user, options_.password);
  req.timeout_ms = std::max<int64_t>(1, deadline_ms - now_ms());
  req.connect_timeout_ms = std::min(options_.connect_timeout_ms, req.timeout_ms);
  req.tls = options_.tls;
  auto on_done = [this, url, done = std::move(done)](HttpResponse resp) {
    if (!resp.completed) return done(make_error(ErrorKind::Unavailable, resp.error));
    if (resp.http_status == 200) {
      auto token = codec::decode_authenticate(resp.body);
      if (!token) return done(make_error(ErrorKind::Protocol, "etcd " + url + ": " + token.error().message));
      token_ = std::move(token.value());
      return done(ok_status());
    }
    auto err = codec::decode_error_body(resp.body);
    std::string msg = err ? err->message : "HTTP status " + std::to_string(resp.http_status);
    if (msg.find("authentication is not enabled") != std::string::npos) {
      auth_disabled_on_server_ = true;  // credentials configured before auth was switched on
      return done(ok_status());
    }
    if (msg.find("authentication failed") != std::string::npos || (err && err->code == codec::kGrpcInvalidArgument)) {
      // Never echo the password: the user name is enough to act on.
      return done(make_error(ErrorKind::Auth, "etcd " + url + ": authentication failed for user " + options_.user));
    }
    if (msg.find("no leader") != std::string::npos || (err && err->code == codec::kGrpcUnavailable)) {
      return done(make_error(ErrorKind::Unavailable, msg));
    }
    return done(make_error(ErrorKind::Auth, "etcd " + url + ": authentication for user " + options_.user + " refused: " + msg));
  };
  return transport_.start(std::move(req), std::move(on_done));
}

}  // namespace pg_ha::etcd
