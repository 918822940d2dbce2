#include "sim.hpp"

#include "checkers.hpp"
#include "client.hpp"
#include "driver.hpp"
#include "faults.hpp"
#include "pg_ops.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {

constexpr uint64_t kSystemIdentifier = 7312345678901234567ULL;

void put_direct(World& w, const std::string& key, const std::string& value) {
  kv::Txn t;
  t.success.push_back(kv::RequestOp::put(key, value));
  w.etcd_txn(t, -1);
}

// The cluster as the bootstrap left it: n0 ran initdb and won `initialize`; the others were
// cloned from it and wait, in recovery, for the core to tell them whom to follow.
void bootstrap(World& w) {
  put_direct(w, w.keys.config(), core::encode_cluster_config(w.sc.config));
  put_direct(w, w.keys.initialize(), core::encode(core::InitializeRecord{"n0", std::to_string(kSystemIdentifier)}));
  for (Node& x : w.nodes) {
    if (x.retired) continue;   // a spare machine, started only by a Duplicate fault
    x.pg.system_identifier = kSystemIdentifier;
    x.pg.wal = Lineage{{}, 1, 1000};
    x.pg.in_recovery = x.index != 0;
    w.q.at(w.rng.range(0, 500), [&w, i = x.index] { pg_start(w, i, w.node(i).pg.in_recovery, "bootstrap"); });
  }
}

void every(World& w, TimeMs lo_ms, TimeMs hi_ms, void (*fn)(World&)) {
  w.q.after(w.rng.range(lo_ms, hi_ms), [&w, lo_ms, hi_ms, fn] {
    if (w.now() > w.sc.end_ms) return;
    fn(w);
    every(w, lo_ms, hi_ms, fn);
  });
}

}  // namespace

int nodes_for_seed(uint64_t seed) {
  static const int sizes[] = {3, 2, 5, 3, 9, 3, 5, 2};
  return sizes[seed % 8];
}

RunResult run_one(const RunOptions& o) {
  RunResult out;
  out.seed = o.seed;
  out.nodes = o.nodes > 0 ? o.nodes : nodes_for_seed(o.seed);
  Rng plan_rng(o.seed);
  Scenario sc = make_scenario(o.seed, out.nodes, plan_rng);
  sc.receive_time_canary = o.receive_time_canary;
  sc.sim_canary = o.sim_canary;
  sc.skip = "," + o.skip + ",";
  out.scenario = describe(sc);
  World w(sc, o.echo_trace);
  w.log(-1, out.scenario);
  bootstrap(w);
  every(w, sc.repl_tick_ms / 2 + 1, sc.repl_tick_ms, replication_tick);
  every(w, sc.client_gap_min_ms, sc.client_gap_max_ms, client_write);
  schedule_faults(w);
  while (!w.violation && !w.q.empty() && w.q.next_time() <= sc.end_ms) {
    w.q.run_next();
    check_one_writer(w);
    check_writer_holds_leader(w);
    check_sync_recorded(w);
    check_liveness_progress(w);
  }
  if (!w.violation) check_liveness_end(w);
  out.violation = w.violation;
  out.stats = w.stats;
  out.simulated_ms = w.now();
  if (w.violation) out.trace = w.trace.dump();
  return out;
}

}  // namespace pg_ha::sim
