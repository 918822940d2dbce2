#include "pg_ops.hpp"

#include "checkers.hpp"
#include "client.hpp"
#include "driver.hpp"
#include "sidecar.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {
constexpr Lsn kEndOfRecoveryBytes = 48;   // one small record; its exact size does not matter here
}  // namespace

void pg_start(World& w, int n, bool in_recovery, const std::string& why) {
  Node& x = w.node(n);
  if (!x.up || x.pg.running) return;
  x.pg.running = true;
  x.pg.in_recovery = in_recovery;
  x.pg.promoting = false;
  x.pg.streaming = false;
  x.pg.incarnation += 1;
  w.log(n, std::string("pg: started as ") + (in_recovery ? "standby" : "primary") + " (" + why + "), wal " + x.pg.wal.describe());
  worker_start(w, n);
}

void pg_stop(World& w, int n, const std::string& why, bool lease_kept) {
  Node& x = w.node(n);
  if (!x.pg.running) return;
  x.lease_kept = lease_kept;
  x.pg.running = false;
  x.pg.promoting = false;
  x.pg.streaming = false;
  x.pg.incarnation += 1;    // backends waiting for synchronous standbys die with it
  w.log(n, "pg: stopped (" + why + ")");
  worker_stop(w, n);
  client_release(w);
}

void pg_crash(World& w, int n) {
  Node& x = w.node(n);
  if (!x.pg.running) return;
  bool was_primary = !x.pg.in_recovery;
  pg_stop(w, n, "postmaster crashed", true);
  sidecar_on_crash(w, n, was_primary);
}

static int64_t view_term(const Node& x, const World& w) {
  auto it = x.w.kvs.find(w.keys.leader());
  if (it == x.w.kvs.end()) return 0;
  auto l = core::decode_leader(it->second.value);
  return l.ok() ? l->term : 0;
}

void pg_promote(World& w, int n) {
  Node& x = w.node(n);
  if (!x.pg.running || !x.pg.in_recovery || x.pg.promoting) return;
  int64_t term = view_term(x, w);
  on_promote_start(w, n, term);
  x.pg.promoting = true;
  x.pg.streaming = false;
  x.promoting_term = term;
  uint64_t inc = x.pg.incarnation;
  w.log(n, "pg: promoting for term " + std::to_string(term) + " at " + x.pg.wal.describe());
  w.q.after(w.rng.range(50, 300), [&w, n, inc, term] {
    Node& y = w.node(n);
    if (y.pg.incarnation != inc || !y.pg.running || !y.pg.promoting) return;
    y.pg.wal.ancestors.push_back({y.pg.wal.timeline, y.pg.wal.flush});
    y.pg.wal.timeline = ++w.max_timeline;
    // PostgreSQL ends a promotion with an end-of-recovery record on the new timeline, so a new
    // primary is always past its branch point: its standbys have something to receive (an idle
    // new timeline with nothing on it made them look stuck, and be rewound for nothing).
    y.pg.wal.flush += kEndOfRecoveryBytes;
    y.pg.in_recovery = false;
    y.pg.promoting = false;
    y.pg.upstream.clear();
    y.pg.upstream_host.clear();
    y.last_promoted_term = term;
    w.stats.promotions += 1;
    w.log(n, "pg: promoted, now " + y.pg.wal.describe());
    on_promote_done(w, n, term);
    y.w.step_wanted = true;
    schedule_tick(w, n, w.now());
  });
}

void pg_follow(World& w, int n, const std::string& upstream, const std::string& host) {
  Node& x = w.node(n);
  if (!x.pg.running || !x.pg.in_recovery || (x.pg.upstream == upstream && x.pg.upstream_host == host)) return;
  x.pg.upstream = upstream;
  x.pg.upstream_host = host;
  x.pg.streaming = false;
  w.log(n, "pg: primary_conninfo now names " + upstream);
}

// One standby, one replication round: stream from the upstream if its WAL is on our lineage
// (else stall, like a diverged standby); sometimes only part of the way (lag).
static void stream_one(World& w, Node& r) {
  r.pg.streaming = false;
  if (!r.up || r.suspended_at_ms >= 0 || !r.pg.running || !r.pg.in_recovery || r.pg.promoting || r.pg.upstream.empty()) return;
  int u = w.index_at(r.pg.upstream, r.pg.upstream_host);
  if (u < 0 || u == r.index || w.replication_cut(r.index, u)) return;
  const Node& up = w.node(u);
  if (!up.up || up.suspended_at_ms >= 0 || !up.pg.running) return;
  if (!up.pg.wal.contains(r.pg.wal.timeline, r.pg.wal.flush)) return;
  r.pg.streaming = true;
  r.pg.streaming_from = u;
  Lsn target = up.pg.wal.flush;
  if (w.rng.chance(0.2)) target -= std::min<Lsn>(target, static_cast<Lsn>(w.rng.range(0, 20000)));
  Lsn mine = r.pg.wal.flush;
  if (target < mine) target = mine;
  r.pg.wal = up.pg.wal.truncated(target);
}

void replication_tick(World& w) {
  for (Node& r : w.nodes) stream_one(w, r);
  client_release(w);
}

}  // namespace pg_ha::sim
