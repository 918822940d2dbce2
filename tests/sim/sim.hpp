// One simulated run: a seed in, a verdict (and the trace that explains it) out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "world.hpp"

namespace pg_ha::sim {

struct RunOptions {
  uint64_t seed = 1;
  int nodes = 0;                 // 0 = chosen from the seed among 2, 3, 5, 9
  bool echo_trace = false;
  bool receive_time_canary = false;
  std::string sim_canary;        // a glue bug on purpose (Scenario::sim_canary)
  std::string skip;              // comma-separated invariants not to check
};

struct RunResult {
  uint64_t seed = 0;
  int nodes = 0;
  std::string scenario;
  std::optional<Violation> violation;
  std::string trace;             // the last lines per node, only when the run failed
  Stats stats;
  TimeMs simulated_ms = 0;
};

int nodes_for_seed(uint64_t seed);
RunResult run_one(const RunOptions& options);

}  // namespace pg_ha::sim
