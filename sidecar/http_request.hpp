// The sidecar's HTTP requests as bytes in, bytes out, free of sockets: parsing a request head,
// routing it to a health check and rendering the answer. tests/fuzz drives `respond` with
// arbitrary bytes; the server (http.hpp) adds only the sockets, limits and threads.
//
// Served: GET, HEAD and OPTIONS (HAProxy's default httpchk method) on /primary (also /master,
// /leader), /replica and /read-only (`?lag=`), /readiness, /health, /liveness, /metrics, /cluster.
// Any other path is 404, any other method 405, a malformed head 400. No endpoint takes a body:
// a body is never read, and every answer closes its connection.
#pragma once

#include <map>
#include <string>

#include "common/result.hpp"
#include "health.hpp"

namespace pg_ha::sidecar {

constexpr size_t kMaxRequestHeadBytes = 8192;   // request line and headers together

struct HttpRequest {
  std::string method;
  std::string path;                                   // percent-decoded: may hold any bytes
  std::multimap<std::string, std::string> params;     // the query, decoded likewise
};

// Parses a request head: the request line and the header lines, up to the blank line (CRLF or
// bare LF line ends). Headers are checked for form and otherwise ignored.
Result<HttpRequest> parse_request_head(const std::string& head);

// The answer to a parsed request.
HealthAnswer handle_request(HealthChecks& checks, const HttpRequest& request);

// A JSON {"problem": ..., "path": ...} answer; `path` may be any bytes (rendered safely, clipped).
HealthAnswer problem_answer(int status, const std::string& problem, const std::string& path = "");

// The status line, headers (Content-Length, Connection: close) and, unless head_only, the body.
std::string render_response(const HealthAnswer& answer, bool head_only);

// The whole exchange: the bytes the server sends for a complete request head. Never throws.
std::string respond(HealthChecks& checks, const std::string& head);

}  // namespace pg_ha::sidecar
