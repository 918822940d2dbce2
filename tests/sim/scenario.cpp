#include "scenario.hpp"

#include <algorithm>
#include <optional>

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::Partition: return "partition";
    case FaultKind::WorkerStall: return "worker stall";
    case FaultKind::PgCrash: return "postmaster crash";
    case FaultKind::NodeCrash: return "node crash";
    case FaultKind::EtcdOutage: return "etcd outage";
    case FaultKind::LossySpell: return "lossy network";
    case FaultKind::Operator: return "operator";
    case FaultKind::ConfigChange: return "config change";
    case FaultKind::Suspend: return "suspend";
    case FaultKind::EtcdLeaderChange: return "etcd leader change";
    case FaultKind::Duplicate: return "duplicate";
  }
  return "?";
}

TimeMs liveness_bound_ms(const core::ClusterConfig& c) {
  double drift = 1.0 + 2.0 * c.max_clock_drift;
  return static_cast<TimeMs>(c.ttl_s * 1000.0 * drift) + c.election_wait_ms + 5 * c.loop_wait_ms + 3000;
}

namespace {

core::ClusterConfig draw_config(Rng& rng, int nodes) {
  core::ClusterConfig c;
  const std::vector<int64_t> ttls{3, 4, 5, 6, 8, 10};
  c.ttl_s = static_cast<int>(rng.pick(ttls));
  c.loop_wait_ms = static_cast<int>(rng.range(200, std::min<int64_t>(1000, c.ttl_s * 1000 / 4)));
  c.max_clock_drift = rng.chance(0.5) ? 0.01 : rng.range(1, 50) / 1000.0;
  c.fence_margin_ms = static_cast<int>(rng.chance(0.3) ? rng.range(20, 200) : rng.range(200, 1000));
  double usable = c.ttl_s * 1000.0 * (1 - c.max_clock_drift) / (1 + c.max_clock_drift) - c.fence_margin_ms;
  bool tight = rng.chance(0.3);   // fence as late as the rules allow: the margins are all that is left
  int64_t lo = c.loop_wait_ms + 1;
  int64_t hi = std::max<int64_t>(lo, static_cast<int64_t>(usable));
  c.fence_after_ms = static_cast<int>(tight ? hi : std::min<int64_t>(hi, rng.range(lo, 3LL * c.loop_wait_ms)));
  c.election_wait_ms = static_cast<int>(rng.range(200, 2000));
  const std::vector<int64_t> lags{2000, 20000, 1048576};
  c.maximum_lag_on_failover = rng.pick(lags);
  const std::vector<int64_t> starts{0, 0, 2, 30};
  c.primary_start_timeout_s = static_cast<int>(rng.pick(starts));
  double m = rng.unit();
  c.synchronous_mode = m < 0.5 ? core::SyncMode::Off : m < 0.8 ? core::SyncMode::On : core::SyncMode::Quorum;
  c.synchronous_mode_strict = rng.chance(0.3);
  c.synchronous_node_count = static_cast<int>(rng.range(1, std::max(1, std::min(2, nodes - 1))));
  const std::vector<int64_t> sync_lags{0, 4000, 33554432};
  c.maximum_lag_on_syncnode = rng.pick(sync_lags);
  c.fast_takeover = rng.chance(0.85);
  return c;
}

core::Tags draw_tags(Rng& rng) {
  core::Tags t;
  t.nofailover = rng.chance(0.08);
  const std::vector<int64_t> prios{0, 50, 100, 100, 100, 150};
  t.priority = static_cast<int>(rng.chance(0.3) ? rng.pick(prios) : 100);
  t.nosync = rng.chance(0.08);
  return t;
}

Clock draw_clock(Rng& rng, double drift) {
  Clock c;
  double u = rng.chance(0.5) ? (rng.chance(0.5) ? 1.0 : -1.0) : 2.0 * rng.unit() - 1.0;  // extremes often
  c.rate = 1.0 + drift * u;
  c.offset_ms = rng.range(0, 100000000);
  return c;
}

int pick_node(Rng& rng, int nodes) { return rng.chance(0.6) ? -1 : static_cast<int>(rng.range(0, nodes - 1)); }

Fault draw_fault(Rng& rng, FaultKind kind, const Scenario& s) {
  Fault f;
  f.kind = kind;
  f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 200);
  f.duration_ms = std::min<TimeMs>(rng.range(200, 15000), s.heal_at_ms - f.at_ms);
  switch (kind) {
    case FaultKind::Partition: {
      for (int i = 0; i < s.nodes; ++i) {
        if (rng.chance(0.4)) f.nodes.push_back(i);
      }
      if (f.nodes.empty()) f.nodes.push_back(-1);   // the primary at that time
      double m = rng.unit();
      f.mode = m < 0.5   ? PartitionMode::Both
               : m < 0.65 ? PartitionMode::RequestsOnly
               : m < 0.8  ? PartitionMode::ResponsesOnly
                          : PartitionMode::SlowResponses;   // congested one way: answers arrive late
      f.replication_too = rng.chance(0.4);
      break;
    }
    case FaultKind::EtcdOutage:
      f.renew_leases = rng.chance(0.5);
      break;
    case FaultKind::Operator: {
      double m = rng.unit();
      f.action = m < 0.45 ? OperatorAction::Switchover : m < 0.75 ? OperatorAction::Failover : OperatorAction::Pause;
      f.nodes.push_back(rng.chance(0.3) ? -1 : static_cast<int>(rng.range(0, s.nodes - 1)));
      f.force = rng.chance(0.2);
      break;
    }
    default:
      f.nodes.push_back(pick_node(rng, s.nodes));
  }
  return f;
}

void draw_faults(Rng& rng, Scenario& s) {
  struct Kind {
    FaultKind kind;
    double p;
    int max;
  };
  const Kind kinds[] = {{FaultKind::Partition, 0.5, 3},  {FaultKind::WorkerStall, 0.4, 3}, {FaultKind::PgCrash, 0.5, 3},
                        {FaultKind::NodeCrash, 0.4, 2},  {FaultKind::EtcdOutage, 0.25, 1}, {FaultKind::LossySpell, 0.3, 2},
                        {FaultKind::Operator, 0.5, 4}};
  for (const Kind& k : kinds) {
    if (!rng.chance(k.p)) continue;
    int64_t count = rng.range(1, k.max);
    for (int64_t i = 0; i < count; ++i) s.faults.push_back(draw_fault(rng, k.kind, s));
  }
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
}

// A new ttl and fence_after_ms that set_config accepts (loop_wait and the rest unchanged), often
// as late a fence as the new ttl allows: the case where trusting the config's ttl over the lease's
// granted one lets the gate outlive the lease.
std::optional<Fault> draw_config_change(Rng& rng, const Scenario& s) {
  const std::vector<int64_t> ttls{3, 4, 5, 6, 8, 10, 15, 20};
  for (int attempt = 0; attempt < 20; ++attempt) {
    core::ClusterConfig c = s.config;
    c.ttl_s = static_cast<int>(rng.pick(ttls));
    double usable = c.ttl_s * 1000.0 * (1 - c.max_clock_drift) / (1 + c.max_clock_drift) - c.fence_margin_ms;
    int64_t lo = c.loop_wait_ms + 1;
    int64_t hi = std::max<int64_t>(lo, static_cast<int64_t>(usable));
    c.fence_after_ms = static_cast<int>(rng.chance(0.6) ? hi : rng.range(lo, hi));
    if (c.ttl_s == s.config.ttl_s || !core::validate_cluster_config(c).ok()) continue;
    Fault f;
    f.kind = FaultKind::ConfigChange;
    f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 200);
    f.ttl_s = c.ttl_s;
    f.fence_after_ms = c.fence_after_ms;
    return f;
  }
  return std::nullopt;
}

// Issue 12's faults: a ttl change (often followed by a partition of the primary, as in its
// reproduction), a whole node suspended, commits that stall before their end, late re-grants.
void draw_lease_faults(Rng& rng, Scenario& s) {
  s.regrant_delay_ms = rng.chance(0.7) ? 0 : rng.range(500, 20000);
  if (rng.chance(0.5)) {
    s.commit_stall_prob = rng.range(1, 30) / 1000.0;
    s.commit_stall_max_ms = rng.range(100, 3LL * s.config.ttl_s * 1000);
  }
  if (rng.chance(0.3)) {
    if (auto f = draw_config_change(rng, s)) {
      s.faults.push_back(*f);
      if (rng.chance(0.5) && f->at_ms + 500 < s.heal_at_ms) {
        Fault cut;
        cut.kind = FaultKind::Partition;
        cut.at_ms = rng.range(f->at_ms + 1, std::min<TimeMs>(f->at_ms + 3000, s.heal_at_ms - 200));
        cut.duration_ms = std::min<TimeMs>(rng.range(1000, 15000), s.heal_at_ms - cut.at_ms);
        cut.nodes.push_back(-1);
        cut.replication_too = rng.chance(0.5);
        s.faults.push_back(cut);
      }
    }
  }
  if (rng.chance(0.25)) {
    Fault f;
    f.kind = FaultKind::Suspend;
    f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 200);
    f.duration_ms = std::min<TimeMs>(rng.range(500, 20000), s.heal_at_ms - f.at_ms);
    f.nodes.push_back(pick_node(rng, s.nodes));
    s.faults.push_back(f);
  }
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
}

// Issue 15's faults, aimed at fast takeover: etcd leader changes that give every lease a full TTL
// again (and more), the primary's requests slowed one way so that keep-alives land after it gave
// up on them (issue 14's slow link), and the same cut from etcd that the takeover answers.
void draw_takeover_faults(Rng& rng, Scenario& s) {
  s.ttl_ceil = rng.chance(0.3);
  int changes = rng.chance(0.3) ? static_cast<int>(rng.range(1, 3)) : 0;
  for (int i = 0; i < changes; ++i) {
    Fault f;
    f.kind = FaultKind::EtcdLeaderChange;
    f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 200);
    f.duration_ms = rng.range(0, 2000);   // the lessor's extension
    s.faults.push_back(f);
  }
  if (rng.chance(0.25)) {
    Fault f;
    f.kind = FaultKind::Partition;
    f.mode = PartitionMode::SlowRequests;
    f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 200);
    f.duration_ms = std::min<TimeMs>(rng.range(1000, 20000), s.heal_at_ms - f.at_ms);
    f.nodes.push_back(-1);
    s.faults.push_back(f);
  }
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
}

// Issue 12: "a second node with the same name and another identity". Drawn last, so that the
// rest of a seed's plan does not depend on it. The clone starts up to 1.5 ttl after the fault
// began: before the original's record can have expired (the guard must refuse it) or after.
void draw_duplicate(Rng& rng, Scenario& s) {
  if (!rng.chance(0.15)) return;
  Fault f;
  f.kind = FaultKind::Duplicate;
  f.at_ms = rng.range(s.faults_from_ms, s.heal_at_ms - 1000);
  f.duration_ms = std::min<TimeMs>(rng.range(0, s.config.ttl_s * 1500LL), s.heal_at_ms - 500 - f.at_ms);
  f.nodes.push_back(pick_node(rng, s.nodes));
  f.original_down = rng.chance(0.5);
  f.remove_at_heal = rng.chance(0.5);
  s.faults.push_back(f);
  s.spare_nodes = 1;
  s.clocks.push_back(draw_clock(rng, s.config.max_clock_drift));
  std::stable_sort(s.faults.begin(), s.faults.end(), [](const Fault& a, const Fault& b) { return a.at_ms < b.at_ms; });
}

}  // namespace

Scenario make_scenario(uint64_t seed, int nodes, Rng& rng) {
  Scenario s;
  s.seed = seed;
  s.nodes = nodes;
  for (int attempt = 0; attempt < 100; ++attempt) {
    s.config = draw_config(rng, nodes);
    if (core::validate_cluster_config(s.config).ok()) break;
    s.config = core::ClusterConfig{};
  }
  for (int i = 0; i < nodes; ++i) s.tags.push_back(draw_tags(rng));
  for (int i = 0; i < nodes; ++i) s.clocks.push_back(draw_clock(rng, s.config.max_clock_drift));
  s.etcd_clock = draw_clock(rng, s.config.max_clock_drift);
  s.request_timeout_ms = std::max(100, s.config.loop_wait_ms * 2 / 3);
  s.delay_min_ms = rng.range(0, 2);
  s.delay_max_ms = rng.range(3, 40);
  s.loss = rng.chance(0.5) ? 0.0 : rng.range(1, 20) / 1000.0;
  s.slow_prob = rng.chance(0.5) ? 0.0 : rng.range(1, 50) / 1000.0;
  s.slow_max_ms = rng.range(s.delay_max_ms, s.request_timeout_ms + 200);
  s.repl_tick_ms = rng.range(5, 60);
  s.client_gap_min_ms = rng.range(2, 10);
  s.client_gap_max_ms = s.client_gap_min_ms + rng.range(5, 60);
  s.faults_from_ms = 2000 + rng.range(0, 3000);
  s.heal_at_ms = s.faults_from_ms + rng.range(10000, 40000);
  s.liveness_bound_ms = liveness_bound_ms(s.config);
  s.end_ms = s.heal_at_ms + s.liveness_bound_ms + 500;
  draw_faults(rng, s);
  draw_lease_faults(rng, s);
  draw_takeover_faults(rng, s);
  draw_duplicate(rng, s);
  // L1's bound follows the longest ttl the cluster may run with (a lease outlives a ttl change).
  core::ClusterConfig longest = s.config;
  for (const Fault& f : s.faults) longest.ttl_s = std::max(longest.ttl_s, f.ttl_s);
  s.liveness_bound_ms = liveness_bound_ms(longest);
  s.end_ms = s.heal_at_ms + s.liveness_bound_ms + 500;
  return s;
}

std::string describe(const Scenario& s) {
  const auto& c = s.config;
  std::string out = "seed " + std::to_string(s.seed) + ": " + std::to_string(s.nodes) + " nodes, ttl " + std::to_string(c.ttl_s) +
                    "s, loop_wait " + std::to_string(c.loop_wait_ms) + "ms, fence_after " + std::to_string(c.fence_after_ms) +
                    "ms, margin " + std::to_string(c.fence_margin_ms) + "ms, drift " + std::to_string(c.max_clock_drift) +
                    ", election_wait " + std::to_string(c.election_wait_ms) + "ms, max_lag " +
                    std::to_string(c.maximum_lag_on_failover) + ", sync " + core::sync_mode_name(c.synchronous_mode) +
                    (c.synchronous_mode_strict ? " strict" : "") + " x" + std::to_string(c.synchronous_node_count) +
                    ", primary_start_timeout " + std::to_string(c.primary_start_timeout_s) + "s; faults " +
                    std::to_string(s.faults.size()) + ", heal at " + std::to_string(s.heal_at_ms) + "ms";
  for (const Fault& f : s.faults) {
    if (f.kind == FaultKind::ConfigChange)
      out += "; at " + std::to_string(f.at_ms) + "ms ttl -> " + std::to_string(f.ttl_s) + "s, fence_after -> " +
             std::to_string(f.fence_after_ms) + "ms";
  }
  if (!c.fast_takeover) out += "; fast_takeover off";
  if (s.ttl_ceil) out += "; TimeToLive rounded up";
  for (const Fault& f : s.faults) {
    if (f.kind == FaultKind::EtcdLeaderChange) out += "; at " + std::to_string(f.at_ms) + "ms etcd leader change";
    if (f.mode == PartitionMode::SlowRequests && f.kind == FaultKind::Partition)
      out += "; at " + std::to_string(f.at_ms) + "ms primary's requests slow for " + std::to_string(f.duration_ms) + "ms";
    if (f.kind == FaultKind::Duplicate)
      out += "; at " + std::to_string(f.at_ms) + "ms a duplicate of " +
             (f.nodes[0] < 0 ? std::string("the primary") : "n" + std::to_string(f.nodes[0])) +
             (f.original_down ? " (original crashed)" : " (original running)") + " starts " +
             std::to_string(f.duration_ms) + "ms later" + (f.remove_at_heal ? ", removed at heal" : ", kept");
  }
  if (s.regrant_delay_ms > 0) out += "; re-grant after " + std::to_string(s.regrant_delay_ms) + "ms";
  if (s.commit_stall_prob > 0)
    out += "; commit stalls " + std::to_string(s.commit_stall_prob) + " up to " + std::to_string(s.commit_stall_max_ms) + "ms";
  std::string tagged;
  for (size_t i = 0; i < s.tags.size(); ++i) {
    const core::Tags& t = s.tags[i];
    if (!t.nofailover && !t.nosync && t.priority == 100) continue;
    tagged += (tagged.empty() ? "" : ", ") + std::string("n") + std::to_string(i) + (t.nofailover ? " nofailover" : "") +
              (t.nosync ? " nosync" : "") + (t.priority != 100 ? " priority " + std::to_string(t.priority) : "");
  }
  if (!tagged.empty()) out += "; tags: " + tagged;
  return out;
}

}  // namespace pg_ha::sim
