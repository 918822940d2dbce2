// pg_ha_sim: run one seed (--seed S, with --trace to watch it) or many (--seeds N, on every core
// unless --jobs says otherwise), or prove a canary is caught (--canary NAME --expect I1). Exit
// status 0 = as expected.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "core/canaries.hpp"
#include "runner.hpp"
#include "common/no_postgres.hpp"

using namespace pg_ha::sim;

namespace {

struct Args {
  bool single = false;
  uint64_t seed = 1;
  uint64_t first = 1;
  uint64_t seeds = 100;
  int nodes = 0;
  int jobs = 0;                      // 0: one per core
  bool trace = false;
  std::string canary;                // tests/sim/CANARIES.md
  bool receive_time_canary = false;  // the one canary that lives in the driver, not the core
  std::string sim_canary;            // a bug in the simulator's model of the glue
  std::string expect;
  std::string skip;
  int print_failures = 3;
};

void usage() {
  std::printf(
      "usage: pg_ha_sim [--seed S [--trace]] [--seeds N [--first F] [--jobs J]] [--nodes K]\n"
      "                 [--canary NAME | --sim-canary NAME] [--expect I1,I2,... [--skip I5,...]] [--print-failures M]\n"
      "  --jobs J: seeds run on J threads (default: one per core); each seed's run is deterministic.\n"
      "  --canary NAME: break one rule on purpose (tests/sim/CANARIES.md): no_fence_margin,\n"
      "    no_term_compare, ignore_sync_set, ssn_before_record, no_lag_check, worst_candidate,\n"
      "    receive_time, config_ttl, no_sticky_fence, no_rearm_compare, no_silence_margin,\n"
      "    foreign_identity, stray_state.\n"
      "  --sim-canary NAME: model a glue bug: no-commit-check, clock-stops-in-suspend,\n"
      "    adopt-foreign-lease, uncapped-regrant, start-after-unanswered-revoke,\n"
      "    forget-unanswered-revoke.\n"
      "  PG_HA_SIM_SEEDS=N overrides --seeds (e.g. a smaller count under sanitizers).\n");
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto num = [&](uint64_t* out) {
      if (i + 1 >= argc) return false;
      *out = std::strtoull(argv[++i], nullptr, 10);
      return true;
    };
    uint64_t v = 0;
    if (k == "--seed" && num(&a->seed)) {
      a->single = true;
    } else if (k == "--seeds" && num(&a->seeds)) {
    } else if (k == "--first" && num(&a->first)) {
    } else if (k == "--nodes" && num(&v)) {
      a->nodes = static_cast<int>(v);
    } else if (k == "--jobs" && num(&v)) {
      a->jobs = static_cast<int>(v);
    } else if (k == "--print-failures" && num(&v)) {
      a->print_failures = static_cast<int>(v);
    } else if (k == "--trace") {
      a->trace = true;
    } else if (k == "--canary" && i + 1 < argc) {
      a->canary = argv[++i];
      if (a->canary == "receive_time") {
        a->receive_time_canary = true;
      } else if (!pg_ha::core::enable_canary(a->canary)) {
        std::fprintf(stderr, "pg_ha_sim: no canary called \"%s\"\n", a->canary.c_str());
        return false;
      }
    } else if (k == "--sim-canary" && i + 1 < argc) {
      a->sim_canary = argv[++i];
    } else if (k == "--skip" && i + 1 < argc) {
      a->skip = argv[++i];
    } else if (k == "--expect" && i + 1 < argc) {
      a->expect = argv[++i];
    } else {
      return false;
    }
  }
  if (const char* env = std::getenv("PG_HA_SIM_SEEDS")) a->seeds = std::strtoull(env, nullptr, 10);
  if (a->jobs <= 0) a->jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return true;
}

void print_failure(const RunResult& r, const Args& a, bool with_trace) {
  std::printf("\nFAIL seed %llu (%d nodes): %s violated: %s\n", static_cast<unsigned long long>(r.seed), r.nodes,
              r.violation->invariant.c_str(), r.violation->message.c_str());
  std::printf("  %s\n", r.scenario.c_str());
  if (with_trace) std::printf("--- last events per node ---\n%s---\n", r.trace.c_str());
  std::printf("  reproduce: pg_ha_sim --seed %llu%s%s --trace\n", static_cast<unsigned long long>(r.seed),
              a.nodes ? (" --nodes " + std::to_string(a.nodes)).c_str() : "",
              a.canary.empty() ? "" : (" --canary " + a.canary).c_str());
  if (!a.sim_canary.empty()) std::printf("  (with --sim-canary %s)\n", a.sim_canary.c_str());
  if (!a.skip.empty()) std::printf("  (with --skip %s)\n", a.skip.c_str());
}

bool expected(const std::string& expect, const std::string& inv) {
  std::string list = "," + expect + ",";
  return list.find("," + inv + ",") != std::string::npos;
}

int run_single(const Args& a) {
  RunOptions o;
  o.seed = a.seed;
  o.nodes = a.nodes;
  o.echo_trace = a.trace;
  o.receive_time_canary = a.receive_time_canary;
  o.sim_canary = a.sim_canary;
  o.skip = a.skip;
  RunResult r = run_one(o);
  if (!r.violation) {
    std::printf("seed %llu ok (%d nodes, %lld ms simulated, %lld commits, %lld promotions, L1 %lld ms)\n",
                static_cast<unsigned long long>(r.seed), r.nodes, static_cast<long long>(r.simulated_ms),
                static_cast<long long>(r.stats.commits), static_cast<long long>(r.stats.promotions),
                static_cast<long long>(r.stats.l1_ms));
    return a.expect.empty() ? 0 : 1;
  }
  print_failure(r, a, !a.trace);
  return a.expect.empty() ? 1 : expected(a.expect, r.violation->invariant) ? 0 : 1;
}

int run_many(const Args& a) {
  Batch b;
  b.first_seed = a.first;
  b.count = a.seeds;
  b.nodes = a.nodes;
  b.jobs = a.jobs;
  b.receive_time_canary = a.receive_time_canary;
  b.sim_canary = a.sim_canary;
  b.skip = a.skip;
  b.expect = a.expect;
  auto t0 = std::chrono::steady_clock::now();   // for the report only; never for behaviour
  BatchResult r = run_batch(b);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int shown = 0;
  for (const RunResult& f : r.failures) {
    if (shown++ < a.print_failures) print_failure(f, a, shown == 1);
  }
  std::printf("\n%llu seeds in %.1f s (%.0f seeds/s): %zu failed; %lld commits, %lld sync-acked, %lld promotions "
              "(%lld automatic), %lld faults, %lld operator requests; slowest L1 %lld ms\n",
              static_cast<unsigned long long>(r.runs), secs, r.runs / (secs > 0 ? secs : 1), r.failures.size(),
              static_cast<long long>(r.totals.commits), static_cast<long long>(r.totals.sync_acked),
              static_cast<long long>(r.totals.promotions), static_cast<long long>(r.totals.auto_promotions),
              static_cast<long long>(r.totals.faults), static_cast<long long>(r.totals.operator_ok),
              static_cast<long long>(r.totals.l1_ms));
  if (!r.failures.empty()) {
    std::printf("failing seeds:");
    for (const RunResult& f : r.failures) std::printf(" %llu(%s)", static_cast<unsigned long long>(f.seed), f.violation->invariant.c_str());
    std::printf("\n");
  }
  if (a.expect.empty()) return r.failures.empty() ? 0 : 1;
  bool caught = false;
  for (const RunResult& f : r.failures) caught |= expected(a.expect, f.violation->invariant);
  std::printf("canary %s: expected %s\n", caught ? "caught" : "NOT caught", a.expect.c_str());
  return caught ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) {
    usage();
    return 2;
  }
  return a.single ? run_single(a) : run_many(a);
}
