// Health answers for load balancers and monitoring, computed from the pg_ha SQL functions on the
// local server (libpq over the private unix socket, short connect and statement timeouts). Each
// answer is an HTTP status and a small JSON (or Prometheus text) body; never a secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

class Health {
 public:
  Health(const Node& node, const SupervisorStats& stats) : node_(node), stats_(stats) {}

  HealthAnswer primary();
  HealthAnswer replica(std::optional<int64_t> max_lag);
  HealthAnswer read_only(std::optional<int64_t> max_lag);   // primary, or a replica within lag
  HealthAnswer readiness();                                 // serving: unfenced primary or streaming replica
  HealthAnswer health();                                    // postgres answers at all
  HealthAnswer liveness();                                  // the sidecar itself
  HealthAnswer metrics();
  HealthAnswer cluster();

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
