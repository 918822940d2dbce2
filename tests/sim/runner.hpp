// Many seeds, on several threads; each seed is an independent, deterministic run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim.hpp"

namespace pg_ha::sim {

struct Batch {
  uint64_t first_seed = 1;
  uint64_t count = 1;
  int nodes = 0;
  int jobs = 1;
  bool receive_time_canary = false;
  std::string sim_canary;
  std::string expect;             // canary mode: stop at the first violation of one of these
  std::string skip;
};

struct BatchResult {
  uint64_t runs = 0;
  std::vector<RunResult> failures;   // in seed order
  Stats totals;
};

BatchResult run_batch(const Batch& b);

}  // namespace pg_ha::sim
