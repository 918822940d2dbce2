#include "faults.hpp"

#include <cmath>

#include "checkers.hpp"
#include "client.hpp"
#include "core/control.hpp"
#include "driver.hpp"
#include "pg_ops.hpp"
#include "sidecar.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {

// -1 names "the primary now": whoever etcd's `leader` names, else node 0.
int resolve(World& w, int n) {
  if (n >= 0) return n;
  const kv::KeyValue* l = w.etcd.get(w.keys.leader());
  if (l) {
    auto r = core::decode_leader(l->value);
    if (r.ok() && w.index_of(r->name) >= 0) return w.index_of(r->name);
  }
  return 0;
}

void partition(World& w, const Fault& f, int sign) {
  std::string who;
  for (int raw : f.nodes) {
    int n = resolve(w, raw);
    Link& l = w.links[static_cast<size_t>(n)];
    if (f.mode == PartitionMode::SlowResponses || f.mode == PartitionMode::SlowRequests) {
      (f.mode == PartitionMode::SlowResponses ? l.responses_slow : l.requests_slow) += sign;
      who += " n" + std::to_string(n);
      continue;
    }
    if (f.mode != PartitionMode::ResponsesOnly) l.requests_cut += sign;
    if (f.mode != PartitionMode::RequestsOnly) l.responses_cut += sign;
    if (f.replication_too) l.isolated += sign;
    who += " n" + std::to_string(n);
  }
  const char* mode = f.mode == PartitionMode::Both           ? "both ways"
                     : f.mode == PartitionMode::RequestsOnly   ? "requests lost"
                     : f.mode == PartitionMode::ResponsesOnly  ? "responses lost"
                     : f.mode == PartitionMode::SlowRequests   ? "requests slow"
                                                               : "responses slow";
  w.log(-1, std::string(sign > 0 ? "FAULT partition" : "heal partition") + who + " from etcd (" + mode + ")" +
                (f.replication_too ? " and from peers" : ""));
}

void node_crash(World& w, int n) {
  Node& x = w.node(n);
  if (!x.up) return;
  w.log(n, "FAULT whole node crashes");
  pg_stop(w, n, "node crashed", true);
  x.up = false;
  x.sc.alive = false;
  x.sc.gen += 1;
  x.sc.running_id.clear();
}

void node_restart(World& w, int n) {
  Node& x = w.node(n);
  if (x.up || x.retired) return;
  x.up = true;
  x.sc.alive = true;
  x.sc.gen += 1;
  w.log(n, "node restarts");
  sidecar_start(w, n, "node restart");
}

// The operator's second node under an existing name (issue 12): its own machine and state_dir, so
// its own identity; its sidecar clones the primary (a running node if etcd names none yet) and
// starts it in recovery, naming no upstream until its worker follows one. Its sidecar's refusal to start under a live name of another identity
// is not modelled: the duplicate starts whatever etcd holds, as if it had raced the original's
// heartbeat, so the guard in the core has to hold by itself.
void start_duplicate(World& w, int d, int orig) {
  if (w.healed) return;
  int p = resolve(w, -1);
  if (p == d || !w.node(p).up || !w.node(p).pg.running) {
    p = -1;
    for (const Node& y : w.nodes) {
      if (y.index != d && y.up && y.pg.running && !y.retired) p = p < 0 ? y.index : p;
    }
  }
  if (p < 0) {
    w.q.after(500, [&w, d, orig] { start_duplicate(w, d, orig); });
    return;
  }
  Node& x = w.node(d);
  const Node& src = w.node(p);
  x.retired = false;
  x.up = true;
  x.sc.alive = true;
  x.sc.gen += 1;
  x.pg.system_identifier = src.pg.system_identifier;
  x.pg.wal = src.pg.wal;
  x.pg.in_recovery = true;
  x.pg.upstream.clear();   // a fresh clone streams once its worker follows (sidecar initial_upstream, F16)
  x.pg.upstream_host.clear();
  x.pg.synchronous_standby_names.clear();
  x.lease_kept = true;   // a new worker looks for a lease to adopt, like any
  x.sc.unanswered_revokes.clear();   // its own state folder
  pg_start(w, d, true, "second node named " + x.config.name + ", identity " + x.config.member_id + ", cloned from " +
                           src.config.name + "; the original (identity " + w.node(orig).config.member_id + ") is " +
                           (w.node(orig).up ? "up" : "down"));
}

// The operator removes the second node (its record expires with its lease). A term it won goes
// with it: a crashed primary comes back at heal, this one never does (checkers.cpp, L1).
void remove_duplicate(World& w, int d) {
  Node& x = w.node(d);
  if (x.retired) return;
  w.log(d, "operator removes the second node named " + x.config.name);
  node_crash(w, d);
  x.retired = true;
}

void duplicate(World& w, const Fault& f) {
  int orig = resolve(w, f.nodes[0]);
  int d = w.sc.nodes;   // the spare machine
  Node& x = w.node(d);
  if (!x.retired || x.up) return;
  x.config.name = w.node(orig).config.name;
  x.config.tags = w.node(orig).config.tags;
  x.config.host = "10.0.1." + std::to_string(orig + 1);
  w.log(d, "FAULT an operator sets up a second node named " + x.config.name + (f.original_down ? " (the original crashes)" : ""));
  if (f.original_down) node_crash(w, orig);
  w.q.after(f.duration_ms, [&w, d, orig] { start_duplicate(w, d, orig); });
}

std::optional<core::EtcdView> operator_view(World& w) {
  if (!w.etcd_up) return std::nullopt;
  std::string root = w.keys.root();
  return core::build_view(w.keys, w.etcd.range(root, kv::prefix_end(root)), w.etcd.revision());
}

// An operator calls a SQL function on some node: it plans against a linearizable read and
// writes one transaction, exactly as the SQL API does.
void operator_action(World& w, const Fault& f) {
  auto view = operator_view(w);
  if (!view) return w.log(-1, "operator: etcd is down, request not made");
  core::ClusterConfig cfg = view->config ? view->config->value : w.sc.config;
  std::string cand = f.nodes[0] < 0 ? "" : w.node(f.nodes[0]).config.name;
  Result<core::EtcdWrite> plan = make_error(ErrorKind::Invalid, "no action");
  std::string what;
  if (f.action == OperatorAction::Switchover) {
    what = "switchover to '" + cand + "'";
    plan = core::plan_switchover(w.keys, *view, cfg, cand);
  } else if (f.action == OperatorAction::Failover) {
    if (cand.empty()) cand = w.node(static_cast<int>(w.rng.range(0, w.sc.nodes - 1))).config.name;
    what = "failover to " + cand + (f.force ? " (force)" : "");
    plan = core::plan_failover(w.keys, *view, cfg, cand, f.force);
  } else {
    bool pause = f.action == OperatorAction::Pause;
    what = pause ? "pause" : "resume";
    plan = core::plan_pause(w.keys, *view, pause);
  }
  if (!plan.ok()) return w.log(-1, "operator: " + what + " refused: " + plan.error().message);
  auto r = w.etcd_txn(plan->txn, -1);
  bool ok = r.ok() && r->succeeded;
  w.stats.operator_ok += ok ? 1 : 0;
  w.log(-1, "operator: " + what + (ok ? ": recorded" : ": txn failed"));
}

// set_config as an operator calls it: the real planner validates and writes the patch.
void config_change(World& w, const Fault& f) {
  auto view = operator_view(w);
  if (!view) return w.log(-1, "operator: etcd is down, set_config not made");
  std::string patch = "{\"ttl\":" + std::to_string(f.ttl_s) + ",\"fence_after_ms\":" + std::to_string(f.fence_after_ms) + "}";
  auto plan = core::plan_config_patch(w.keys, *view, patch);
  if (!plan.ok()) return w.log(-1, "operator: set_config " + patch + " refused: " + plan.error().message);
  auto r = w.etcd_txn(plan->txn, -1);
  bool ok = r.ok() && r->succeeded;
  w.stats.operator_ok += ok ? 1 : 0;
  w.log(-1, "operator: set_config " + patch + (ok ? ": recorded" : ": txn failed"));
}

// The whole machine sleeps: nothing on it runs. The deadline clock (CLOCK_BOOTTIME) counts the
// sleep, so on waking the gate has passed if etcd may have expired the lease; the canary's
// CLOCK_MONOTONIC stood still instead.
void suspend(World& w, int n, TimeMs until) {
  Node& x = w.node(n);
  if (x.suspended_at_ms >= 0 || !x.up) return;
  w.log(n, "FAULT machine suspended until " + std::to_string(until));
  x.suspended_at_ms = w.now();
  x.w.stalled_until_ms = std::max(x.w.stalled_until_ms, until);
  w.q.at(until, [&w, n] { resume(w, n); });
}

void start_fault(World& w, const Fault& f) {
  w.stats.faults += 1;
  TimeMs until = w.now() + f.duration_ms;
  switch (f.kind) {
    case FaultKind::Partition:
      partition(w, f, +1);
      if (f.mode == PartitionMode::SlowResponses) {
        // A degrading link: slow answers first, then nothing at all.
        Fault cut = f;
        cut.mode = PartitionMode::Both;
        TimeMs mid = w.now() + f.duration_ms / 2;
        w.q.at(mid, [&w, f, cut] {
          partition(w, f, -1);
          partition(w, cut, +1);
        });
        w.q.at(until, [&w, cut] { partition(w, cut, -1); });
        break;
      }
      w.q.at(until, [&w, f] { partition(w, f, -1); });
      break;
    case FaultKind::WorkerStall: {
      int n = resolve(w, f.nodes[0]);
      w.node(n).w.stalled_until_ms = std::max(w.node(n).w.stalled_until_ms, until);
      w.log(n, "FAULT worker stalls for " + std::to_string(f.duration_ms) + " ms");
      break;
    }
    case FaultKind::PgCrash: {
      int n = resolve(w, f.nodes[0]);
      if (w.node(n).pg.running) w.log(n, "FAULT postmaster killed");
      pg_crash(w, n);
      break;
    }
    case FaultKind::NodeCrash: {
      int n = resolve(w, f.nodes[0]);
      node_crash(w, n);
      w.q.at(until, [&w, n] { node_restart(w, n); });
      break;
    }
    case FaultKind::EtcdOutage:
      if (!w.etcd_up) break;
      w.log(-1, "FAULT etcd down for " + std::to_string(f.duration_ms) + " ms");
      w.etcd_go_down();
      w.q.at(until, [&w, f] {
        w.log(-1, std::string("etcd back") + (f.renew_leases ? " (leases renewed)" : ""));
        w.etcd_come_back(f.renew_leases);
      });
      break;
    case FaultKind::LossySpell:
      w.log(-1, "FAULT lossy network for " + std::to_string(f.duration_ms) + " ms");
      w.lossy_until_ms = std::max(w.lossy_until_ms, until);
      break;
    case FaultKind::ConfigChange:
      config_change(w, f);
      break;
    case FaultKind::Suspend:
      suspend(w, resolve(w, f.nodes[0]), until);
      break;
    case FaultKind::EtcdLeaderChange:
      if (!w.etcd_up) break;
      w.log(-1, "FAULT etcd leader change: every lease renewed (+" + std::to_string(f.duration_ms) + " ms)");
      w.etcd.renew_all(w.etcd_now(), f.duration_ms);
      w.schedule_expiry();
      break;
    case FaultKind::Duplicate:
      duplicate(w, f);
      break;
    case FaultKind::Operator:
      operator_action(w, f);
      if (f.action == OperatorAction::Pause) {
        Fault resume = f;
        resume.action = OperatorAction::Resume;
        w.q.at(until, [&w, resume] { operator_action(w, resume); });
      }
      break;
  }
}

}  // namespace

void resume(World& w, int n) {
  Node& x = w.node(n);
  if (x.suspended_at_ms < 0) return;
  if (w.sc.sim_canary == "clock-stops-in-suspend") {
    x.clock.offset_ms -= static_cast<TimeMs>(std::floor((w.now() - x.suspended_at_ms) * x.clock.rate));
  }
  x.suspended_at_ms = -1;
  w.log(n, "machine resumes");
  if (x.w.alive) schedule_tick(w, n, w.now());
  client_release(w);
}

void schedule_faults(World& w) {
  for (const Fault& f : w.sc.faults) w.q.at(f.at_ms, [&w, f] { start_fault(w, f); });
  w.q.at(w.sc.heal_at_ms, [&w] { heal_all(w); });
}

// Everything still broken is mended; a pause is lifted (L1 is about automatic failover).
void heal_all(World& w) {
  w.log(-1, "HEAL all faults");
  for (Link& l : w.links) l = Link{};
  w.lossy_until_ms = -1;
  if (!w.etcd_up) w.etcd_come_back(true);
  for (const Fault& f : w.sc.faults) {
    if (f.kind == FaultKind::Duplicate && f.remove_at_heal) remove_duplicate(w, w.sc.nodes);
  }
  for (Node& x : w.nodes) {
    if (x.retired) continue;
    resume(w, x.index);
    if (!x.up) node_restart(w, x.index);
    x.w.stalled_until_ms = -1;
  }
  Fault resume;
  resume.kind = FaultKind::Operator;
  resume.action = OperatorAction::Resume;
  resume.nodes.push_back(-1);
  auto view = operator_view(w);
  if (view && view->state && view->state->value.paused) operator_action(w, resume);
  w.healed = true;
}

}  // namespace pg_ha::sim
