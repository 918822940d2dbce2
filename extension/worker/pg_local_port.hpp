// The agent's view of the local PostgreSQL (agent::LocalPort), implemented inside the server:
// observation from shared memory, the commit gate in pg_ha's shared memory, in-process actions.
// Every method is C++-safe: PostgreSQL calls go through guards, errors arrive as exceptions.
#pragma once

#include <cstdint>
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
  // SIGTERM, or the postmaster is gone. On the first true the node fences at once: the agent
  // releases leadership next, and no commit may follow that. Also reloads the config file on
  // SIGHUP (the agent calls this often, and between steps a reload is safe).
  bool should_stop() override;
  std::optional<std::vector<core::ExistingSlot>> list_slots() override;
  Status create_slot(const std::string& name) override;
  Status drop_slot(const std::string& name) override;
  Status advance_slot(const std::string& name, core::Lsn to) override;
  std::optional<core::Tags> current_tags() override;
  int64_t postmaster_incarnation() override;

  // For the etcd client's interrupt check: true when the postmaster is gone, or once a SIGTERM is
  // older than kShutdownGraceMs. The grace lets the agent release its lease on the way out
  // (failover starts at once instead of after ttl) without holding up shutdown for long.
  bool io_should_abort();
  static constexpr int64_t kShutdownGraceMs = 2000;

 private:
  void note_shutdown();
  int64_t shutdown_seen_ms_ = -1;   // when SIGTERM was first seen (-1: not yet)
};

}  // namespace pg_ha::worker
