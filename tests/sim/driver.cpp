// The node driver, following the worker's contract:
//  1. lease: grant when there is none; keep it alive every loop_wait; the deadline counts from
//     the keep-alive's SEND time on this node's clock;
//  2. view: a linearizable read of the whole prefix at start and whenever the watch broke,
//     otherwise watch events applied in order;
//  3. step the real core, publish the gate, act locally, then run its writes one by one and
//     stop at the first that did not succeed (re-read, step again).
// The worker is sequential: one request in flight, each with a timeout.
#include "driver.hpp"

#include "checkers.hpp"
#include "client.hpp"
#include "core/control.hpp"
#include "core/sync_names.hpp"
#include "core/takeover.hpp"
#include "pg_ops.hpp"
#include "sidecar.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

namespace {

const core::ClusterConfig& config_of(const World& w, Node& x) {
  auto it = x.w.kvs.find(w.keys.config());
  int64_t rev = it == x.w.kvs.end() ? 0 : it->second.mod_revision;
  if (rev != x.w.config_mod_revision) {
    x.w.config_mod_revision = rev;
    x.w.config = w.sc.config;
    if (rev != 0) {
      auto c = core::parse_cluster_config(it->second.value);
      if (c.ok()) x.w.config = *c;
    }
  }
  return x.w.config;
}

std::function<bool()> alive_check(World& w, int n) {
  uint64_t inc = w.node(n).w.incarnation;
  return [&w, n, inc] { return w.node(n).w.alive && w.node(n).w.incarnation == inc; };
}

// Runs `fn` at the node when the answer arrives; then lets the worker continue.
std::function<void()> then_continue(World& w, int n, std::function<void()> fn) {
  uint64_t inc = w.node(n).w.incarnation;
  return [&w, n, inc, fn] {
    at_worker(w, n, inc, [&w, n, fn] {
      w.node(n).w.busy = false;
      fn();
      worker_tick(w, n);
    });
  };
}

// Watch events in revision order onto the view; those it already holds (a read served at or after
// their revision) are skipped.
void apply_watch_events(Worker& k, const std::vector<KvEvent>& events) {
  for (const KvEvent& e : events) {
    if (e.revision <= k.view_revision && e.revision != 0) continue;
    if (e.deleted) {
      k.kvs.erase(e.kv.key);
    } else {
      k.kvs[e.kv.key] = e.kv;
    }
  }
  for (const KvEvent& e : events) k.view_revision = std::max(k.view_revision, e.revision);
  k.view_dirty = true;
}

void send_read(World& w, int n) {
  Worker& k = w.node(n).w;
  k.busy = true;
  uint64_t gen = ++k.watch_gen;
  k.early_events.clear();
  uint64_t inc = k.incarnation;
  TimeMs sent = w.local_now(n);
  k.last_read_sent_ms = sent;
  w.rpc(n,
        [&w, n, gen, inc, sent]() -> std::function<void()> {
          std::string root = w.keys.root();
          auto kvs = w.etcd.range(root, kv::prefix_end(root));
          int64_t rev = w.etcd.revision();
          // The watch starts right after the revision read. A read that arrives late (its
          // worker gave up on it and read again) must not replace the newer watch.
          auto it = w.watches.find(n);
          if (it == w.watches.end() || it->second.first != inc || it->second.second < gen) w.watches[n] = {inc, gen};
          return then_continue(w, n, [&w, n, gen, kvs, rev, sent] {
            Worker& k2 = w.node(n).w;
            if (k2.watch_gen != gen) return;
            k2.kvs.clear();
            for (const kv::KeyValue& v : kvs) k2.kvs[v.key] = v;
            k2.view_revision = rev;
            k2.view_gen = gen;
            apply_watch_events(k2, k2.early_events);
            k2.early_events.clear();
            k2.view_valid = true;
            k2.view_dirty = true;
            k2.read_backoff = false;
            k2.last_contact_sent_ms = sent;
            k2.step_wanted = true;
          });
        },
        then_continue(w, n, [&w, n] {
          w.node(n).w.read_backoff = true;
          w.node(n).w.step_wanted = true;
        }),
        alive_check(w, n));
}

// LeaseGrant with the config's ttl (a first lease, or the new one of a re-grant): `on_granted`
// runs with the lease, the TTL etcd granted and the local send time once the answer is back.
using Granted = std::function<void(int64_t id, int64_t granted_ttl_s, TimeMs sent)>;
void rpc_grant(World& w, int n, const core::ClusterConfig& cfg, Granted on_granted) {
  w.node(n).w.busy = true;
  TimeMs sent = w.local_now(n);
  int64_t ttl_ms = static_cast<int64_t>(cfg.ttl_s) * 1000;
  w.rpc(n,
        [&w, n, sent, ttl_ms, on_granted = std::move(on_granted)]() -> std::function<void()> {
          int64_t id = w.etcd.grant(ttl_ms, w.etcd_now());
          int64_t granted = w.etcd.lease_ttl_s(id);
          w.lease_owner[id] = n;
          w.schedule_expiry();
          return then_continue(w, n, [on_granted, id, granted, sent] { on_granted(id, granted, sent); });
        },
        then_continue(w, n, [] {}), alive_check(w, n));
}

void send_grant(World& w, int n, const core::ClusterConfig& cfg) {
  w.node(n).w.last_keepalive_sent_ms = w.local_now(n);
  rpc_grant(w, n, cfg, [&w, n, asked = cfg.ttl_s](int64_t id, int64_t granted, TimeMs sent) {
    Node& x = w.node(n);
    x.w.lease.id = id;
    x.w.lease.last_ok_sent_ms = w.sc.receive_time_canary ? w.local_now(n) : sent;
    x.w.lease.granted_ttl_s = granted;
    x.w.lease_asked_ttl_s = asked;
    x.w.last_contact_sent_ms = sent;
    x.sc.lease_of_worker = id;
    x.w.step_wanted = true;
    w.log(n, "lease " + std::to_string(id) + " granted");
  });
}

void send_keepalive(World& w, int n) {
  Worker& k = w.node(n).w;
  k.busy = true;
  TimeMs sent = w.local_now(n);
  k.last_keepalive_sent_ms = sent;
  int64_t id = k.lease.id;
  w.rpc(n,
        [&w, n, sent, id]() -> std::function<void()> {
          bool ok = w.etcd.keepalive(id, w.etcd_now());
          int64_t granted = w.etcd.lease_ttl_s(id);
          if (ok) w.schedule_expiry();
          if (ok) check_lease_user(w, n, id, "keeps alive");
          return then_continue(w, n, [&w, n, sent, id, ok, granted] {
            Worker& k2 = w.node(n).w;
            if (k2.lease.id != id) return;
            k2.last_contact_sent_ms = sent;
            k2.step_wanted = true;
            if (ok) {
              k2.lease.last_ok_sent_ms = w.sc.receive_time_canary ? w.local_now(n) : sent;
              k2.lease.granted_ttl_s = granted;
            } else {
              w.log(n, "lease " + std::to_string(id) + " expired (keep-alive refused)");
              k2.lease = core::LeaseObservation{};
            }
          });
        },
        then_continue(w, n, [&w, n] { w.node(n).w.step_wanted = true; }), alive_check(w, n));
}

// Fast takeover: LeaseTimeToLive of the leader's lease, with etcd's revision when it answered.
void send_ttl_read(World& w, int n, int64_t id) {
  Worker& k = w.node(n).w;
  k.busy = true;
  TimeMs sent = w.local_now(n);
  k.last_ttl_read_sent_ms = sent;
  w.rpc(n,
        [&w, n, id, sent]() -> std::function<void()> {
          auto ttl = w.etcd.time_to_live(id, w.etcd_now(), w.sc.ttl_ceil);
          int64_t rev = w.etcd.revision();
          return then_continue(w, n, [&w, n, id, sent, ttl, rev] {
            Worker& k2 = w.node(n).w;
            k2.leader_lease = core::LeaseTtlReading{id, ttl ? ttl->remaining_s : -1, ttl ? ttl->granted_s : 0, rev, sent};
            k2.step_wanted = true;
          });
        },
        then_continue(w, n, [] {}), alive_check(w, n));
}

// --- lease adoption at start, as the agent does it (Agent::maintain_lease) -------------------------

// The lease a starting worker adopts: the one its member record names, and only when the record
// carries this node's identity (the canary adopts whatever record holds its name). 0: none.
int64_t adoptable_lease(const World& w, const Node& x) {
  auto it = x.w.kvs.find(w.keys.member(x.config.name));
  if (it == x.w.kvs.end()) return 0;
  auto m = core::decode_member(it->second.value);
  if (!m.ok() || m->lease_id == 0) return 0;
  if (m->member_id != x.config.member_id && w.sc.sim_canary != "adopt-foreign-lease") return 0;
  return m->lease_id;
}

void send_adopt(World& w, int n, int64_t id) {
  Worker& k = w.node(n).w;
  k.busy = true;
  TimeMs sent = w.local_now(n);
  k.last_keepalive_sent_ms = sent;
  w.rpc(n,
        [&w, n, sent, id]() -> std::function<void()> {
          bool ok = w.etcd.keepalive(id, w.etcd_now());
          int64_t granted = w.etcd.lease_ttl_s(id);
          if (ok) {
            w.schedule_expiry();
            check_lease_user(w, n, id, "adopts");
          }
          return then_continue(w, n, [&w, n, sent, id, ok, granted] {
            Node& x = w.node(n);
            x.w.step_wanted = true;
            if (!ok || x.w.lease.id != 0) return;
            x.w.lease = core::LeaseObservation{id, w.sc.receive_time_canary ? w.local_now(n) : sent, granted};
            x.w.lease_asked_ttl_s = granted;
            x.w.last_contact_sent_ms = sent;
            x.sc.lease_of_worker = id;
            w.log(n, "lease " + std::to_string(id) + " adopted from the previous worker");
          });
        },
        then_continue(w, n, [] {}), alive_check(w, n));
}

// --- re-grant after a ttl change, as the agent does it (Agent::regrant_lease) ---------------------

// A txn moving every key the worker's view has on lease `from` onto lease `to` (compare: each
// key unchanged since the view).
kv::Txn move_txn(const Worker& k, int64_t from, int64_t to) {
  kv::Txn t;
  for (const auto& [key, v] : k.kvs) {
    if (v.lease != from) continue;
    t.compare.push_back(kv::Compare::mod_revision_is(key, v.mod_revision));
    t.success.push_back(kv::RequestOp::put(key, v.value, to));
  }
  return t;
}

// 1. A new lease with the new ttl; nothing is on it yet.
void send_regrant(World& w, int n, const core::ClusterConfig& cfg) {
  rpc_grant(w, n, cfg, [&w, n, asked = cfg.ttl_s](int64_t id, int64_t granted, TimeMs sent) {
    Worker& k = w.node(n).w;
    k.pending_lease = core::LeaseObservation{id, sent, granted};
    k.pending_asked_ttl_s = asked;
    w.log(n, "lease " + std::to_string(id) + " granted (ttl " + std::to_string(granted) + " s) to replace " +
                 std::to_string(k.lease.id));
  });
}

// 2. The keys move onto it in one compare txn; from then on it is the worker's lease. A lost
// compare leaves nothing on the new lease (it is dropped); an unknown outcome makes it the lease
// anyway, with the old one left over until its keys (if any) are moved too. Before the txn is
// sent, the gate closes no later than the new lease allows (Agent::clamp_gate): once the move
// applies, `leader` lives as long as the new lease, whether or not the worker hears the answer.
void send_move(World& w, int n, const core::ClusterConfig& cfg) {
  Worker& k = w.node(n).w;
  k.busy = true;
  TimeMs bound = core::write_deadline_after_keepalive(cfg, k.pending_lease.last_ok_sent_ms, k.pending_lease.granted_ttl_s);
  if (w.sc.sim_canary != "uncapped-regrant" && k.deadline_ms > bound) k.deadline_ms = bound;
  kv::Txn t = move_txn(k, k.lease.id, k.pending_lease.id);
  w.rpc(n,
        [&w, n, t]() -> std::function<void()> {
          bool ok = true;
          if (!t.success.empty()) {
            Result<kv::TxnResult> r = w.etcd_txn(t, n);
            ok = r.ok() && r->succeeded;
          }
          return then_continue(w, n, [&w, n, ok] {
            Worker& k2 = w.node(n).w;
            if (!ok) {
              w.log(n, "moving keys to lease " + std::to_string(k2.pending_lease.id) + ": compare failed");
              k2.leftover_lease = k2.pending_lease.id;   // nothing on it: revoked when settled
            } else {
              w.log(n, "keys moved from lease " + std::to_string(k2.lease.id) + " to " + std::to_string(k2.pending_lease.id));
              k2.leftover_lease = k2.lease.id;
              k2.lease = k2.pending_lease;
              k2.lease_asked_ttl_s = k2.pending_asked_ttl_s;
              k2.last_keepalive_sent_ms = k2.lease.last_ok_sent_ms;
            }
            k2.pending_lease = core::LeaseObservation{};
            k2.view_valid = false;   // read the move (or what beat it) before the next step
            k2.step_wanted = true;
          });
        },
        then_continue(w, n, [&w, n] {
          Worker& k2 = w.node(n).w;
          w.log(n, "moving keys to lease " + std::to_string(k2.pending_lease.id) + ": no answer (outcome unknown)");
          k2.leftover_lease = k2.lease.id;
          k2.lease = k2.pending_lease;
          k2.lease_asked_ttl_s = k2.pending_asked_ttl_s;
          k2.last_keepalive_sent_ms = k2.lease.last_ok_sent_ms;
          k2.pending_lease = core::LeaseObservation{};
          k2.view_valid = false;
          k2.step_wanted = true;
        }),
        alive_check(w, n));
}

// 3. The left-over lease: keys still on it move to the current lease, then it is revoked.
void send_settle(World& w, int n) {
  Worker& k = w.node(n).w;
  k.busy = true;
  int64_t old = k.leftover_lease;
  kv::Txn t = move_txn(k, old, k.lease.id);
  w.rpc(n,
        [&w, n, t, old]() -> std::function<void()> {
          bool ok = true;
          if (!t.success.empty()) {
            Result<kv::TxnResult> r = w.etcd_txn(t, n);
            ok = r.ok() && r->succeeded;
          }
          if (ok) {
            std::vector<KvEvent> events;
            w.etcd.revoke(old, &events);
            after_txn(w, events);
            w.publish(events);
          }
          return then_continue(w, n, [&w, n, ok, old] {
            Worker& k2 = w.node(n).w;
            if (ok && k2.leftover_lease == old) k2.leftover_lease = 0;
            if (ok) w.log(n, "old lease " + std::to_string(old) + " revoked");
            if (!ok) k2.view_valid = false;
          });
        },
        then_continue(w, n, [&w, n] { w.node(n).w.view_valid = false; }), alive_check(w, n));
}

// Which step of a re-grant is due, if any (the view must be current: moves compare against it).
bool regrant_step(World& w, int n, const core::ClusterConfig& cfg, TimeMs now) {
  Worker& k = w.node(n).w;
  if (k.lease.id == 0 || !k.view_valid) return false;
  if (k.pending_lease.id != 0) return send_move(w, n, cfg), true;
  if (k.leftover_lease != 0) return send_settle(w, n), true;
  if (k.lease_asked_ttl_s == cfg.ttl_s) {
    k.ttl_mismatch_since_ms = -1;
    return false;
  }
  if (k.ttl_mismatch_since_ms < 0) k.ttl_mismatch_since_ms = now;
  if (now < k.ttl_mismatch_since_ms + w.sc.regrant_delay_ms) return false;
  send_regrant(w, n, cfg);
  return true;
}

void write_failed(World& w, int n, const std::string& why) {
  Worker& k = w.node(n).w;
  w.log(n, why);
  k.writes.clear();
  k.next_write = 0;
  k.view_valid = false;
  k.step_wanted = true;
}

void send_write(World& w, int n) {
  Worker& k = w.node(n).w;
  k.busy = true;
  core::EtcdWrite write = k.writes[k.next_write];
  TimeMs sent = w.local_now(n);
  w.rpc(n,
        [&w, n, write, sent]() -> std::function<void()> {
          Result<kv::TxnResult> r = w.etcd_txn(write.txn, n);
          bool ok = r.ok() && r->succeeded;
          std::string err = r.ok() ? "compare failed" : r.error().message;
          int64_t rev = r.ok() ? r->revision : 0;
          return then_continue(w, n, [&w, n, write, ok, err, rev, sent] {
            Worker& k2 = w.node(n).w;
            k2.last_contact_sent_ms = sent;
            if (!ok) return write_failed(w, n, "txn " + write.what + ": " + err);
            w.log(n, "txn " + write.what + ": ok @" + std::to_string(rev));
            k2.last_txn_revision = rev;
            // As the agent does: a keep-alive right after an arm, inside the window it opened.
            if (write.what.rfind(core::kArmWhat, 0) == 0) k2.last_keepalive_sent_ms = -1000000000;
            k2.next_write += 1;
            if (k2.next_write == k2.writes.size()) {
              // Like the real agent: after its writes, re-read before stepping again, so the core
              // never decides on a view older than what it just wrote.
              k2.writes.clear();
              k2.next_write = 0;
              k2.view_valid = false;
              k2.step_wanted = true;
            }
          });
        },
        then_continue(w, n, [&w, n, write] { write_failed(w, n, "txn " + write.what + ": no answer (outcome unknown)"); }),
        alive_check(w, n));
}

core::Observation observe(const World& w, const Node& x, const core::ClusterConfig& cfg) {
  core::Observation o;
  o.now_ms = x.clock.local(w.now());
  o.local.postgres_running = x.pg.running;
  o.local.in_recovery = x.pg.in_recovery;
  o.local.promote_in_progress = x.pg.promoting;
  o.local.timeline = x.pg.wal.timeline;
  o.local.flush_lsn = x.pg.wal.flush;
  o.local.replay_lsn = x.pg.wal.flush;
  o.local.receiver_streaming = x.pg.streaming;
  o.local.upstream = x.pg.upstream;
  if (!x.pg.in_recovery) {
    for (const StandbyFlush& s : streaming_standbys(w, x.index)) {
      core::StandbyName sn = core::parse_standby_application_name(s.name);
      o.local.standbys.push_back({sn.name, s.flush, true, sn.identity});
    }
  }
  o.local.synchronous_standby_names = x.pg.synchronous_standby_names;
  o.local.system_identifier = x.pg.system_identifier;
  o.local.sidecar_done_id = x.sc.done_id;
  o.lease = x.w.lease;
  o.leader_lease = x.w.leader_lease;
  o.etcd_view_fresh = x.w.view_valid && x.w.last_contact_sent_ms >= 0 && o.now_ms - x.w.last_contact_sent_ms <= 2 * cfg.loop_wait_ms;
  o.etcd_view_ms = x.w.last_contact_sent_ms;
  o.wall_clock_unix_ms = 1763800000000 + w.now();
  return o;
}

void log_decision(World& w, int n, const core::Decision& d) {
  Worker& k = w.node(n).w;
  std::string line = std::string(core::state_name(d.state)) + ": " + d.reason;
  if (line == k.last_logged_reason) return;
  k.last_logged_reason = line;
  std::string gate = d.write_deadline_ms > 0 ? " [gate until " + std::to_string(d.write_deadline_ms) + "]" : " [fenced]";
  w.log(n, "step " + line + gate);
}

void apply_decision(World& w, int n, const core::Decision& d) {
  Node& x = w.node(n);
  log_decision(w, n, d);
  check_transition(w, n, x.w.state, d);
  x.w.state = d.state;
  // synchronous_standby_names first: commits the new gate lets through must wait for it.
  if (d.synchronous_standby_names && *d.synchronous_standby_names != x.pg.synchronous_standby_names) {
    x.pg.synchronous_standby_names = *d.synchronous_standby_names;
    w.log(n, "pg: synchronous_standby_names = '" + x.pg.synchronous_standby_names + "'");
    client_release(w);
  }
  x.w.deadline_ms = d.write_deadline_ms;   // the commit gate in shared memory
  x.w.fenced = d.fenced;
  x.w.followed |= d.follow.has_value();
  // The agent's first write of its include file names the upstream the core chose, or none: a
  // worker that has been in conflict since it started empties primary_conninfo (a sidecar that
  // restarts a standby names the leader), so a duplicate does not stream under the name it may
  // not use. A fresh clone names none (F16).
  if (!x.w.followed && d.state == core::NodeState::Conflict && !x.pg.upstream.empty()) {
    x.pg.upstream.clear();
    x.pg.upstream_host.clear();
    x.pg.streaming = false;
    w.log(n, "pg: primary_conninfo emptied (the worker is in conflict)");
  }
  if (d.follow) pg_follow(w, n, d.follow->name, d.follow->host);
  if (d.promote) pg_promote(w, n);
  sidecar_request(w, n, d.sidecar);
  x.w.ttl_lease_wanted = d.read_lease_ttl;
  x.w.ttl_read_at_ms = d.read_lease_ttl_at;
  if (d.hold_keepalive && !x.w.hold_keepalive) w.log(n, "keep-alives held: the gate lapsed");
  x.w.hold_keepalive = d.hold_keepalive;
  x.w.writes = d.writes;
  x.w.next_write = 0;
  x.w.wake_at_ms = d.wake_at_ms;
}

// FINDINGS.md F1: the core's build_view files election reports under "" (moved-from name).
// Re-file them from the raw keys until the core is fixed; a no-op afterwards.
void repair_reports(const World& w, const std::map<std::string, kv::KeyValue>& kvs, core::EtcdView* view) {
  bool broken = false;
  for (const auto& [term, by_name] : view->reports) broken |= by_name.count("") != 0;
  if (!broken) return;
  view->reports.clear();
  std::string prefix = w.keys.election_prefix();
  for (const auto& [key, v] : kvs) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    auto r = core::decode_report(v.value);
    if (r.ok()) view->reports[r->term][r->name] = core::Versioned<core::ElectionReport>{*r, v.create_revision, v.mod_revision, v.lease};
  }
}

void do_step(World& w, int n, const core::ClusterConfig& cfg) {
  Node& x = w.node(n);
  if (x.w.view_dirty) {
    x.w.view = w.views.build(w.keys, x.w.kvs, x.w.view_revision);
    repair_reports(w, x.w.kvs, &x.w.view);
    x.w.view_dirty = false;
  }
  const core::EtcdView& view = x.w.view;
  core::Observation obs = observe(w, x, cfg);
  core::StepOutput out = core::step(core::StepInput{cfg, x.config, w.keys, view, obs}, x.w.memory);
  x.w.memory = out.memory;
  x.w.step_wanted = false;
  w.stats.steps += 1;
  apply_decision(w, n, out.decision);
}

}  // namespace

void at_worker(World& w, int n, uint64_t incarnation, std::function<void()> fn) {
  Node& x = w.node(n);
  if (!x.w.alive || x.w.incarnation != incarnation) return;
  if (x.w.stalled_until_ms > w.now()) {
    w.q.at(x.w.stalled_until_ms, [&w, n, incarnation, fn] { at_worker(w, n, incarnation, fn); });
    return;
  }
  fn();
}

void schedule_tick(World& w, int n, TimeMs real_ms) {
  Worker& k = w.node(n).w;
  if (!k.alive) return;
  if (k.tick_at_ms >= 0 && k.tick_at_ms <= real_ms) return;
  k.tick_at_ms = real_ms;
  uint64_t gen = ++k.tick_gen;
  uint64_t inc = k.incarnation;
  w.q.at(real_ms, [&w, n, gen, inc] {
    Worker& k2 = w.node(n).w;
    if (k2.tick_gen != gen || k2.incarnation != inc) return;
    k2.tick_at_ms = -1;
    worker_tick(w, n);
  });
}

void worker_tick(World& w, int n) {
  Node& x = w.node(n);
  Worker& k = x.w;
  if (!k.alive || k.busy) return;
  if (k.stalled_until_ms > w.now()) return schedule_tick(w, n, k.stalled_until_ms);
  const core::ClusterConfig& cfg = config_of(w, x);
  TimeMs now = w.local_now(n);
  if (!k.view_valid && !k.read_backoff) return send_read(w, n);
  if (k.lease.id == 0 && k.view_valid && !k.adoption_tried) {
    k.adoption_tried = true;
    int64_t id = x.lease_kept ? adoptable_lease(w, x) : 0;
    if (id != 0) return send_adopt(w, n, id);
  }
  if (k.lease.id == 0 && k.view_valid) return send_grant(w, n, cfg);
  bool renew = k.lease.id != 0 && !k.hold_keepalive;
  TimeMs keepalive_every = core::leader_keepalive_interval_ms(cfg);
  if (renew && now >= k.last_keepalive_sent_ms + keepalive_every) return send_keepalive(w, n);
  if (k.next_write < k.writes.size()) return send_write(w, n);
  if (regrant_step(w, n, cfg, now)) return;
  bool read_ttl = k.ttl_lease_wanted != 0 && k.view_valid;
  TimeMs ttl_due = std::max(k.ttl_read_at_ms, k.last_ttl_read_sent_ms + core::kMinLeaseReadingGapMs);
  if (read_ttl && now >= ttl_due) return send_ttl_read(w, n, k.ttl_lease_wanted);
  // Like the real agent: a full linearizable read at least every loop_wait, whatever the watch
  // delivered (a watch only wakes the agent early).
  if (now >= k.last_read_sent_ms + cfg.loop_wait_ms) return send_read(w, n);
  bool stale = k.read_backoff;
  k.read_backoff = false;   // step once on the stale view, then read again
  if (k.step_wanted || stale || now >= k.wake_at_ms) {
    do_step(w, n, cfg);
    if (k.next_write < k.writes.size()) return send_write(w, n);
  }
  TimeMs next_local = std::min(k.wake_at_ms, k.last_read_sent_ms + cfg.loop_wait_ms);
  if (renew) next_local = std::min(next_local, k.last_keepalive_sent_ms + keepalive_every);
  if (read_ttl) next_local = std::min(next_local, ttl_due);
  if (k.ttl_mismatch_since_ms >= 0) next_local = std::min(next_local, k.ttl_mismatch_since_ms + w.sc.regrant_delay_ms);
  if (!k.view_valid) next_local = std::min(next_local, now + cfg.loop_wait_ms / 2);
  schedule_tick(w, n, x.clock.real_at(std::max(next_local, now + 1)));
}

void worker_start(World& w, int n) {
  Node& x = w.node(n);
  uint64_t inc = x.w.incarnation + 1;
  TimeMs stalled = x.w.stalled_until_ms;
  x.w = Worker{};
  x.w.alive = true;
  x.w.incarnation = inc;
  x.w.stalled_until_ms = stalled;
  w.watches.erase(n);
  schedule_tick(w, n, w.now() + w.rng.range(1, 50));
}

void worker_stop(World& w, int n) {
  Node& x = w.node(n);
  x.w.alive = false;
  x.w.incarnation += 1;
  x.w.deadline_ms = 0;
  x.w.fenced = true;
  x.w.tick_at_ms = -1;
  w.watches.erase(n);
}

void on_watch_events(World& w, int n, uint64_t incarnation, uint64_t gen, const std::vector<KvEvent>& events) {
  at_worker(w, n, incarnation, [&w, n, gen, events] {
    Worker& k = w.node(n).w;
    if (k.watch_gen != gen) return;
    // Before the read that started this watch is applied, the view is older than the watch's
    // start: applying the events to it (or dropping them) would leave a view that claims a
    // revision whose earlier changes it misses, and a compare at that revision would pass.
    if (k.view_gen != gen) {
      k.early_events.insert(k.early_events.end(), events.begin(), events.end());
      return;
    }
    if (!k.view_valid) return;
    apply_watch_events(k, events);
    k.step_wanted = true;
    worker_tick(w, n);
  });
}

void on_watch_broken(World& w, int n, uint64_t incarnation, uint64_t gen) {
  at_worker(w, n, incarnation, [&w, n, gen] {
    Worker& k = w.node(n).w;
    if (k.watch_gen != gen) return;
    k.view_valid = false;
    worker_tick(w, n);
  });
}

}  // namespace pg_ha::sim
