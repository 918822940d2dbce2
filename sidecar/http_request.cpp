#include "http_request.hpp"

#include <nlohmann/json.hpp>

#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

Error bad(const std::string& what) { return make_error(ErrorKind::Invalid, what); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding (and '+' as a space in the query); a broken escape is an error.
bool percent_decode(const std::string& in, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
    }
  }
  return true;
}

bool is_token(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

Status parse_query(const std::string& query, HttpRequest* r) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string item = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string key, value;
      if (!percent_decode(item.substr(0, eq), true, &key) ||
          !percent_decode(eq == std::string::npos ? "" : item.substr(eq + 1), true, &value))
        return bad("malformed percent escape in the query");
      if (r->params.size() >= 32) return bad("too many query parameters");
      r->params.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return ok_status();
}

Status parse_request_line(const std::string& line, HttpRequest* r) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return bad("malformed request line");
  r->method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string version = line.substr(sp2 + 1);
  if (!is_token(r->method)) return bad("malformed method");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad("unsupported HTTP version");
  if (target.empty() || target[0] != '/') return bad("the request target must be a path");
  size_t q = target.find('?');
  if (!percent_decode(target.substr(0, q), false, &r->path)) return bad("malformed percent escape in the path");
  if (q != std::string::npos) return parse_query(target.substr(q + 1), r);
  return ok_status();
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// `?lag=` as bytes; an answer (400) when it does not parse.
bool lag_param(const HttpRequest& req, std::optional<int64_t>* lag, HealthAnswer* refusal) {
  auto it = req.params.find("lag");
  if (it == req.params.end()) return true;
  auto parsed = parse_lag(it->second);
  if (!parsed) {
    *refusal = problem_answer(400, parsed.error().message);
    return false;
  }
  *lag = *parsed;
  return true;
}

HealthAnswer route(HealthChecks& h, const HttpRequest& req) {
  const std::string& p = req.path;
  if (p == "/primary" || p == "/master" || p == "/leader") return h.primary();
  if (p == "/replica" || p == "/read-only") {
    std::optional<int64_t> lag;
    HealthAnswer refusal;
    if (!lag_param(req, &lag, &refusal)) return refusal;
    return p == "/replica" ? h.replica(lag) : h.read_only(lag);
  }
  if (p == "/readiness") return h.readiness();
  if (p == "/health") return h.health();
  if (p == "/liveness") return h.liveness();
  if (p == "/metrics") return h.metrics();
  if (p == "/cluster") return h.cluster();
  return problem_answer(404, "no such endpoint", p);
}

}  // namespace

Result<HttpRequest> parse_request_head(const std::string& head) {
  if (head.size() > kMaxRequestHeadBytes) return bad("request head too large");
  HttpRequest r;
  size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    if (nl == std::string::npos) return bad("the request head does not end with a blank line");
    std::string line = head.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = nl + 1;
    if (first) {
      if (Status s = parse_request_line(line, &r); !s) return s.error();
      first = false;
      continue;
    }
    if (line.empty()) return r;   // the blank line ends the head
    size_t colon = line.find(':');
    if (colon == std::string::npos || !is_token(line.substr(0, colon))) return bad("malformed header line");
  }
  return bad("the request head does not end with a blank line");
}

HealthAnswer problem_answer(int status, const std::string& problem, const std::string& path) {
  nlohmann::json body{{"problem", problem}};
  if (!path.empty()) body["path"] = path.size() > 256 ? path.substr(0, 256) + "..." : path;
  return HealthAnswer{status, safe_dump(body) + "\n"};
}

HealthAnswer handle_request(HealthChecks& checks, const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS")
    return problem_answer(405, "only GET, HEAD and OPTIONS are served");
  return route(checks, req);
}

std::string render_response(const HealthAnswer& a, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + reason_phrase(a.status) + "\r\n";
  out += "Content-Type: " + a.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(a.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) out += a.body;
  return out;
}

std::string respond(HealthChecks& checks, const std::string& head) {
  try {
    auto req = parse_request_head(head);
    if (!req) return render_response(problem_answer(400, req.error().message), false);
    return render_response(handle_request(checks, *req), req->method == "HEAD");
  } catch (const std::exception&) {   // a check that failed unexpectedly (out of memory...)
    return render_response(HealthAnswer{500, "{\"problem\":\"internal error\"}\n"}, false);
  }
}

}  // namespace pg_ha::sidecar
