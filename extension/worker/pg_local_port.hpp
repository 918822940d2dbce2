// The agent's view of the local PostgreSQL (agent::LocalPort), implemented inside the server:
// observation from shared memory, the commit gate in pg_ha's shared memory, in-process actions.
// Every method is C++-safe: PostgreSQL calls go through guards, errors arrive as exceptions.
#pragma once

#include <string>

#include "agent/ports.hpp"

namespace pg_ha::worker {

class PgLocalPort : public agent::LocalPort {
 public:
  int64_t monotonic_ms() override;
  int64_t wall_clock_unix_ms() override;
  core::LocalObservation observe() override;
  void publish_gate(int64_t deadline_ms, bool fenced, const std::string& reason) override;
  void terminate_client_backends() override;
  void promote() override;
  void reload_configuration() override;
  void publish_snapshot(const std::string& json) override;
  void log(agent::LogLevel level, const std::string& message) override;
  // SIGTERM, or the postmaster is gone. Also reloads the config file on SIGHUP (the agent calls
  // this often, and a reload between steps is exactly when it is safe).
  bool should_stop() override;
};

}  // namespace pg_ha::worker
