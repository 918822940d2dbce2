#include "runner.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {

void add(Stats& t, const Stats& s) {
  t.steps += s.steps;
  t.txns += s.txns;
  t.txn_failed += s.txn_failed;
  t.commits += s.commits;
  t.acked += s.acked;
  t.sync_acked += s.sync_acked;
  t.promotions += s.promotions;
  t.auto_promotions += s.auto_promotions;
  t.faults += s.faults;
  t.operator_ok += s.operator_ok;
  t.l1_ms = std::max(t.l1_ms, s.l1_ms);   // the slowest recovery seen
}

}  // namespace

BatchResult run_batch(const Batch& b) {
  BatchResult out;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  auto worker = [&] {
    for (;;) {
      uint64_t i = next.fetch_add(1);
      if (i >= b.count || stop.load()) return;
      RunOptions o;
      o.seed = b.first_seed + i;
      o.nodes = b.nodes;
      o.receive_time_canary = b.receive_time_canary;
      o.sim_canary = b.sim_canary;
      o.skip = b.skip;
      RunResult r = run_one(o);
      std::lock_guard<std::mutex> lock(mu);
      out.runs += 1;
      add(out.totals, r.stats);
      if (r.violation) {
        std::string inv = "," + r.violation->invariant + ",";
        if (!b.expect.empty() && ("," + b.expect + ",").find(inv) != std::string::npos) stop.store(true);
        out.failures.push_back(std::move(r));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::max(1, b.jobs); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  std::sort(out.failures.begin(), out.failures.end(), [](const RunResult& a, const RunResult& c) { return a.seed < c.seed; });
  return out;
}

}  // namespace pg_ha::sim
