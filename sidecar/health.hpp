// Health answers for load balancers and monitoring, computed from the pg_ha SQL functions on the
// local server (libpq over the private unix socket, short connect and statement timeouts). Each
// answer is an HTTP status and a small JSON (or Prometheus text) body; never a secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"
#include "node.hpp"
#include "supervisor.hpp"

namespace pg_ha::sidecar {

struct HealthAnswer {
  int status = 503;
  std::string body;
  std::string content_type = "application/json";
};

// "16MB", "1GB", "1024", "512kB" (1024-based units, case-insensitive, as PostgreSQL's sizes).
Result<int64_t> parse_lag(const std::string& text);

// Renders JSON for an HTTP answer: bytes that are not UTF-8 become U+FFFD, never an exception.
std::string safe_dump(const nlohmann::json& j);

// The checks the HTTP server answers; Health computes them from SQL, tests/fuzz fakes them.
class HealthChecks {
 public:
  virtual ~HealthChecks() = default;
  virtual HealthAnswer primary() = 0;
  virtual HealthAnswer replica(std::optional<int64_t> max_lag) = 0;
  virtual HealthAnswer read_only(std::optional<int64_t> max_lag) = 0;   // primary, or a replica within lag
  virtual HealthAnswer readiness() = 0;                                 // serving: unfenced primary or streaming replica
  virtual HealthAnswer health() = 0;                                    // postgres answers at all
  virtual HealthAnswer liveness() = 0;                                  // the sidecar itself
  virtual HealthAnswer metrics() = 0;
  virtual HealthAnswer cluster() = 0;
};

class Health : public HealthChecks {
 public:
  Health(const Node& node, const SupervisorStats& stats) : node_(node), stats_(stats) {}

  HealthAnswer primary() override;
  HealthAnswer replica(std::optional<int64_t> max_lag) override;
  HealthAnswer read_only(std::optional<int64_t> max_lag) override;
  HealthAnswer readiness() override;
  HealthAnswer health() override;
  HealthAnswer liveness() override;
  HealthAnswer metrics() override;
  HealthAnswer cluster() override;

 private:
  struct Check {
    bool reachable = false;
    bool ok = false;
    std::string reason_json = "{}";   // from pg_ha, or a short problem
  };
  Check run_check(const std::string& pg_ha_sql, const std::string& fallback_sql);
  HealthAnswer answer(const char* check, const Check& c);

  const Node& node_;
  const SupervisorStats& stats_;
};

}  // namespace pg_ha::sidecar
