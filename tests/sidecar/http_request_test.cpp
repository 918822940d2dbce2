// The sidecar's request handling without sockets (ctest label: unit): parsing, routing, and
// rendering of hostile requests (issue 13, item 3).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_request.hpp"

using namespace pg_ha;
using namespace pg_ha::sidecar;

namespace {

struct FakeChecks : HealthChecks {
  std::optional<int64_t> last_lag;
  HealthAnswer ok(const char* what) { return HealthAnswer{200, std::string("{\"check\":\"") + what + "\"}\n"}; }
  HealthAnswer primary() override { return ok("primary"); }
  HealthAnswer replica(std::optional<int64_t> lag) override { last_lag = lag; return ok("replica"); }
  HealthAnswer read_only(std::optional<int64_t> lag) override { last_lag = lag; return ok("read-only"); }
  HealthAnswer readiness() override { return ok("readiness"); }
  HealthAnswer health() override { return ok("health"); }
  HealthAnswer liveness() override { return ok("liveness"); }
  HealthAnswer metrics() override { return ok("metrics"); }
  HealthAnswer cluster() override { return ok("cluster"); }
};

int status_of(const std::string& reply) { return std::stoi(reply.substr(9, 3)); }
std::string body_of(const std::string& reply) { return reply.substr(reply.find("\r\n\r\n") + 4); }

}  // namespace

TEST(SidecarHttpRequest, InvalidUtf8PathGetsA404WithValidJson) {
  FakeChecks c;
  std::string reply = respond(c, "GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(reply), 404);
  auto body = nlohmann::json::parse(body_of(reply));   // throws on invalid UTF-8
  EXPECT_EQ(body["problem"], "no such endpoint");
}

TEST(SidecarHttpRequest, RoutesAndParsesLag) {
  FakeChecks c;
  EXPECT_EQ(status_of(respond(c, "GET /primary HTTP/1.1\r\n\r\n")), 200);
  EXPECT_EQ(status_of(respond(c, "OPTIONS /primary HTTP/1.0\n\n")), 200);
  EXPECT_EQ(status_of(respond(c, "GET /replica?lag=16MB HTTP/1.1\r\n\r\n")), 200);
  EXPECT_EQ(c.last_lag, std::optional<int64_t>(16 << 20));
  EXPECT_EQ(status_of(respond(c, "GET /read-only?lag=1%20kB&x=%41 HTTP/1.1\r\n\r\n")), 200);
  EXPECT_EQ(c.last_lag, std::optional<int64_t>(1024));
  std::string reply = respond(c, "GET /replica?lag=%ff HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(reply), 400);
  EXPECT_NO_THROW(nlohmann::json::parse(body_of(reply)));
}

TEST(SidecarHttpRequest, HeadHasNoBody) {
  FakeChecks c;
  std::string reply = respond(c, "HEAD /liveness HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(reply), 200);
  EXPECT_EQ(body_of(reply), "");
  EXPECT_NE(reply.find("Content-Length: 21\r\n"), std::string::npos) << reply;
}

TEST(SidecarHttpRequest, RefusesOtherMethodsAndMalformedHeads) {
  FakeChecks c;
  EXPECT_EQ(status_of(respond(c, "POST /primary HTTP/1.1\r\nContent-Length: 67108864\r\n\r\n")), 405);
  for (const char* head : {"GET /primary\r\n\r\n", "GET primary HTTP/1.1\r\n\r\n", "GET /a%zz HTTP/1.1\r\n\r\n",
                           "GET /a%f HTTP/1.1\r\n\r\n", "GET  /primary HTTP/1.1\r\n\r\n", "GET /primary HTTP/2\r\n\r\n",
                           "GET /primary HTTP/1.1\r\nno colon\r\n\r\n", "\xff\xfe\r\n\r\n", "", "\r\n"}) {
    std::string reply = respond(c, head);
    EXPECT_EQ(status_of(reply), 400) << head;
    EXPECT_NO_THROW(nlohmann::json::parse(body_of(reply))) << head;
  }
  EXPECT_EQ(status_of(respond(c, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n")), 400);
}

TEST(SidecarHttpRequest, EveryAnswerClosesTheConnection) {
  FakeChecks c;
  EXPECT_NE(respond(c, "GET /health HTTP/1.1\r\n\r\n").find("Connection: close\r\n"), std::string::npos);
}
