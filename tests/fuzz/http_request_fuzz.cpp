// The sidecar's HTTP request handling (sidecar/http_request.cpp) on arbitrary bytes as a request
// head, with fake health checks (no server, no sockets). Properties: `respond` never crashes or
// throws and always answers one well-formed response: a status line with a known code, the
// headers, a blank line, then exactly Content-Length body bytes (none for HEAD); a JSON body is
// valid JSON (any bytes of the path rendered safely).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "http_request.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

namespace {

// Answers that echo what the handler passed on, so its routing and lag parsing are exercised.
class FakeChecks : public HealthChecks {
 public:
  HealthAnswer primary() override { return {200, "{\"role\":\"primary\"}\n"}; }
  HealthAnswer replica(std::optional<int64_t> lag) override { return lagged("replica", lag); }
  HealthAnswer read_only(std::optional<int64_t> lag) override { return lagged("read-only", lag); }
  HealthAnswer readiness() override { return {503, "{\"ready\":false}\n"}; }
  HealthAnswer health() override { return {200, "{}\n"}; }
  HealthAnswer liveness() override { return {200, "{}\n"}; }
  HealthAnswer metrics() override { return {200, "pg_ha_up 1\n", "text/plain; version=0.0.4"}; }
  HealthAnswer cluster() override { return {200, "{\"members\":[]}\n"}; }

 private:
  static HealthAnswer lagged(const char* what, std::optional<int64_t> lag) {
    PG_HA_FUZZ_CHECK(!lag || *lag >= 0, "a negative lag reached a check");
    return {200, nlohmann::json{{"check", what}, {"lag", lag ? *lag : -1}}.dump() + "\n"};
  }
};

void check_response(const std::string& out, bool head_only) {
  PG_HA_FUZZ_CHECK(out.rfind("HTTP/1.1 ", 0) == 0 && out.size() > 12, "no status line");
  int status = std::stoi(out.substr(9, 3));
  PG_HA_FUZZ_CHECK(status == 200 || status == 400 || status == 404 || status == 405 || status == 500 || status == 503,
                   "unexpected status");
  size_t end = out.find("\r\n\r\n");
  PG_HA_FUZZ_CHECK(end != std::string::npos, "no blank line after the headers");
  std::string head = out.substr(0, end + 2), body = out.substr(end + 4);
  for (char c : head) PG_HA_FUZZ_CHECK(c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7f), "a control byte in the headers");
  size_t cl = head.find("Content-Length: ");
  PG_HA_FUZZ_CHECK(cl != std::string::npos, "no Content-Length");
  size_t length = std::stoul(head.substr(cl + 16));
  PG_HA_FUZZ_CHECK(head_only ? body.empty() : body.size() == length, "body does not match Content-Length");
  if (!head_only && head.find("Content-Type: application/json") != std::string::npos)
    PG_HA_FUZZ_CHECK(nlohmann::json::accept(body), "a JSON body that is not JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string head = fuzz::bytes(data, size);
  FakeChecks checks;
  auto parsed = parse_request_head(head);
  std::string out = respond(checks, head);
  check_response(out, parsed.ok() && parsed->method == "HEAD");
  return 0;
}
