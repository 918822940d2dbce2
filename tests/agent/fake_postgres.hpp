// A LocalPort that stands in for PostgreSQL in the agent tests: a primary or standby whose
// promote, gate and reloads are recorded, on the real monotonic clock.
#pragma once

#include <chrono>
#include <string>

#include "agent/ports.hpp"

namespace pg_ha::test {

class FakePostgres : public agent::LocalPort {
 public:
  core::LocalObservation local;
  int64_t gate_deadline_ms = 0;
  bool gate_fenced = true;
  std::string gate_reason;
  int promotions = 0;
  int reloads = 0;
  int terminations = 0;
  std::string snapshot;
  bool stop = false;

  FakePostgres(bool primary, uint64_t sysid) {
    local.in_recovery = !primary;
    local.timeline = 1;
    local.flush_lsn = 0x3000000;
    local.replay_lsn = local.flush_lsn;
    local.system_identifier = sysid;
  }
  int64_t monotonic_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  int64_t wall_clock_unix_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  core::LocalObservation observe() override { return local; }
  void publish_gate(int64_t deadline_ms, bool fenced, const std::string& reason) override {
    gate_deadline_ms = deadline_ms;
    gate_fenced = fenced;
    gate_reason = reason;
  }
  void terminate_client_backends() override { ++terminations; }
  void promote() override {
    ++promotions;
    local.in_recovery = false;
    local.timeline += 1;
  }
  void reload_configuration() override { ++reloads; }
  void publish_snapshot(const std::string& json) override { snapshot = json; }
  void log(agent::LogLevel, const std::string&) override {}
  bool should_stop() override { return stop; }
  int64_t incarnation = 1;   // a new value stands for a restarted postmaster
  int64_t postmaster_incarnation() override { return incarnation; }
  // The node could commit right now.
  bool can_commit() { return !local.in_recovery && !gate_fenced && monotonic_ms() < gate_deadline_ms; }
};

}  // namespace pg_ha::test
