#include "sidecar.hpp"

#include <memory>

#include "pg_ops.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {

// Runs `fn` after `delay_ms` unless the sidecar died (whole-node crash) in between.
void later(World& w, int n, TimeMs delay_ms, std::function<void()> fn) {
  uint64_t gen = w.node(n).sc.gen;
  w.q.after(delay_ms, [&w, n, gen, fn] {
    Node& x = w.node(n);
    if (!x.up || !x.sc.alive || x.sc.gen != gen) return;
    fn();
  });
}

void finish(World& w, int n, const std::string& id, bool ok, const std::string& what) {
  Sidecar& sc = w.node(n).sc;
  sc.running_id.clear();
  if (ok) sc.done_id = id;
  w.log(n, "sidecar: " + what + (ok ? " done" : " failed"));
}

// The real sidecar does one thing at a time, and a request on a stopped server: a postmaster the
// crash path restarted while this request waited (here the two run side by side) is stopped
// before the request changes anything, so that postgres comes back under a new worker. Changing a
// running server in place made it a standby under the worker of its primary life (FINDINGS F20).
void stop_if_started_meanwhile(World& w, int n, const core::SidecarRequest& r) {
  pg_stop(w, n, std::string("sidecar ") + core::sidecar_request_kind_name(r.kind) + ", started meanwhile",
          r.kind == core::SidecarRequest::Kind::Restart);
}

// pg_rewind: our WAL becomes the new primary's up to where the two lineages parted. When that
// fails (or by request) a re-clone copies the primary's data directory.
void rewind_or_reclone(World& w, int n, const core::SidecarRequest& r, bool reclone) {
  Node& x = w.node(n);
  int p = w.index_at(r.primary, r.primary_host);   // the address in the request, as the sidecar uses
  if (p < 0 || p == n || !w.node(p).pg.running || w.replication_cut(n, p)) {
    finish(w, n, r.id, false, std::string(reclone ? "reclone" : "rewind") + " from " + r.primary + " (source unreachable)");
    pg_start(w, n, true, "after a failed rewind");
    return;
  }
  stop_if_started_meanwhile(w, n, r);
  const Lineage& src = w.node(p).pg.wal;
  if (!reclone && w.rng.chance(0.85)) {
    x.pg.wal = src.truncated(fork_point(x.pg.wal, src));
    finish(w, n, r.id, true, "rewind from " + r.primary + " to " + x.pg.wal.describe());
  } else {
    x.pg.wal = src;
    finish(w, n, r.id, true, "reclone from " + r.primary + " at " + x.pg.wal.describe());
  }
  x.pg.upstream = r.primary;
  x.pg.upstream_host = r.primary_host;
  x.pg.in_recovery = true;
  pg_start(w, n, true, r.id);
}

void run(World& w, int n, const core::SidecarRequest& r) {
  Node& x = w.node(n);
  x.sc.running_id = r.id;
  w.log(n, "sidecar: starting " + std::string(core::sidecar_request_kind_name(r.kind)) + " " + r.id);
  using K = core::SidecarRequest::Kind;
  if (r.kind == K::ReleaseLease) {
    sidecar_release_lease(w, n, x.sc.lease_of_worker);
    finish(w, n, r.id, true, "release lease");
    return;
  }
  pg_stop(w, n, std::string("sidecar ") + core::sidecar_request_kind_name(r.kind), r.kind == K::Restart);
  TimeMs delay = w.rng.range(r.kind == K::Restart || r.kind == K::Demote ? 200 : 500, 2500);
  later(w, n, delay, [&w, n, r] {
    Node& y = w.node(n);
    if (r.kind == K::Rewind || r.kind == K::Reclone) return rewind_or_reclone(w, n, r, r.kind == K::Reclone);
    stop_if_started_meanwhile(w, n, r);
    bool recovery = r.kind == K::Demote ? true : y.pg.in_recovery;
    if (r.kind == K::Demote) {
      y.pg.in_recovery = true;
      y.pg.upstream = r.primary;
      y.pg.upstream_host = r.primary_host;
    }
    finish(w, n, r.id, true, core::sidecar_request_kind_name(r.kind));
    pg_start(w, n, recovery, r.id);
  });
}

}  // namespace

void sidecar_request(World& w, int n, const std::optional<core::SidecarRequest>& r) {
  w.node(n).sc.wanted = r;
  sidecar_poll(w, n);
}

void sidecar_poll(World& w, int n) {
  Node& x = w.node(n);
  if (!x.up || !x.sc.alive || !x.sc.running_id.empty() || !x.sc.wanted) return;
  if (x.sc.wanted->id == x.sc.done_id) return;
  core::SidecarRequest r = *x.sc.wanted;
  // The sidecar reads the request file on its own schedule.
  later(w, n, w.rng.range(5, 100), [&w, n, r] {
    Node& y = w.node(n);
    if (!y.sc.running_id.empty() || r.id == y.sc.done_id) return;
    run(w, n, r);
  });
}

void sidecar_release_lease(World& w, int n, int64_t lease) {
  if (lease == 0) return;
  std::optional<TimeMs> d = w.request_delay(n);
  if (!d) {
    w.log(n, "sidecar: release of lease " + std::to_string(lease) + " lost");
    return;
  }
  w.q.after(*d, [&w, n, lease] {
    if (!w.etcd_up) return;
    std::vector<KvEvent> events;
    bool ok = w.etcd.revoke(lease, &events);
    w.log(n, "sidecar: lease " + std::to_string(lease) + (ok ? " revoked" : " already gone"));
    after_txn(w, events);
    w.publish(events);
  });
}

// The supervisor's revoke after a crash: synchronous, with the etcd client's timeout. A request
// that timed out may still reach etcd later, as a real one can; so a revoke without an answer is
// sent again until one is answered (revoked or already gone), and postgres starts only then
// (ClusterView::revoke_unanswered; FINDINGS F11). `--sim-canary start-after-unanswered-revoke`
// starts after the first timeout, as the supervisor did before.
void release_before_restart(World& w, int n, int64_t lease) {
  Node& x = w.node(n);
  x.sc.releasing = true;
  uint64_t gen = x.sc.gen;
  auto done = std::make_shared<bool>(false);
  auto finish = [&w, n, gen, done, lease] {
    Node& y = w.node(n);
    if (*done || y.sc.gen != gen || !y.up || !y.sc.alive) return;
    *done = true;
    y.sc.unanswered_revokes.erase(lease);
    if (!y.sc.unanswered_revokes.empty()) return release_before_restart(w, n, *y.sc.unanswered_revokes.begin());
    y.sc.releasing = false;
    if (!y.sc.start_after_release) return;
    y.sc.start_after_release = false;
    pg_start(w, n, y.pg.in_recovery, "restart after crash");
  };
  if (lease == 0) return finish();
  x.sc.unanswered_revokes.insert(lease);   // on record before it leaves
  w.q.after(w.sc.request_timeout_ms, [&w, n, gen, lease, done, finish] {
    Node& y = w.node(n);
    if (*done || y.sc.gen != gen || !y.up || !y.sc.alive) return;
    if (w.sc.sim_canary == "start-after-unanswered-revoke") return finish();
    w.log(n, "sidecar: revoke of lease " + std::to_string(lease) + " got no answer: retrying");
    *done = true;   // this attempt is over; the retry has its own
    release_before_restart(w, n, lease);
  });
  std::optional<TimeMs> d = w.request_delay(n);
  if (!d) {
    w.log(n, "sidecar: release of lease " + std::to_string(lease) + " lost");
    return;
  }
  w.q.after(*d, [&w, n, lease, finish] {
    if (!w.etcd_up) return;
    std::vector<KvEvent> events;
    bool ok = w.etcd.revoke(lease, &events);
    w.log(n, "sidecar: lease " + std::to_string(lease) + (ok ? " revoked" : " already gone"));
    after_txn(w, events);
    w.publish(events);
    if (std::optional<TimeMs> back = w.response_delay(n)) w.q.after(*back, finish);
  });
}

// A sidecar starting on a machine whose state folder records a revoke without an answer: the
// revoke may still land, so it is sent again and postgres starts after an answer (F21).
// `--sim-canary forget-unanswered-revoke` starts at once, as the sidecar did before.
void sidecar_start(World& w, int n, const std::string& why) {
  Node& x = w.node(n);
  if (w.sc.sim_canary == "forget-unanswered-revoke") x.sc.unanswered_revokes.clear();
  if (x.sc.unanswered_revokes.empty()) return pg_start(w, n, x.pg.in_recovery, why);
  w.log(n, "sidecar: a revoke of the previous sidecar may still land: revoking again before postgres starts");
  x.sc.start_after_release = true;
  release_before_restart(w, n, *x.sc.unanswered_revokes.begin());
}

// The postmaster died. A replica is simply restarted. A primary is restarted in place within
// primary_start_timeout; past it (or at once when 0) the sidecar releases the lease so that an
// election starts now instead of after ttl.
void sidecar_on_crash(World& w, int n, bool was_primary) {
  Node& x = w.node(n);
  if (!x.up || !x.sc.alive) return;
  TimeMs restart_ms = w.rng.range(300, 5000);
  TimeMs timeout_ms = static_cast<TimeMs>(w.sc.config.primary_start_timeout_s) * 1000;
  x.sc.running_id.clear();
  x.sc.releasing = false;
  x.sc.start_after_release = false;
  if (was_primary && (timeout_ms == 0 || restart_ms > timeout_ms)) {
    int64_t lease = x.sc.lease_of_worker;
    later(w, n, timeout_ms, [&w, n, lease] {
      if (!w.node(n).pg.running) release_before_restart(w, n, lease);
    });
  }
  later(w, n, restart_ms, [&w, n] {
    Node& y = w.node(n);
    if (y.sc.releasing) {
      y.sc.start_after_release = true;
      return;
    }
    pg_start(w, n, y.pg.in_recovery, "restart after crash");
  });
}

}  // namespace pg_ha::sim
