// The simulated cluster: virtual time, the fake etcd, the network, and per node its clock,
// PostgreSQL model, pg_ha worker (the core's driver) and sidecar. The parts live in their own
// files (driver, sidecar, client, faults, checkers); this header is what they share.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkers.hpp"
#include "client.hpp"
#include "clock.hpp"
#include "core/schema.hpp"
#include "core/step.hpp"
#include "core/sync_names.hpp"
#include "event_queue.hpp"
#include "fake_etcd.hpp"
#include "pg_model.hpp"
#include "rng.hpp"
#include "scenario.hpp"
#include "trace.hpp"
#include "view_cache.hpp"

namespace pg_ha::sim {

// Partitions compose: each is a counter, so overlapping faults heal independently.
struct Link {
  int requests_cut = 0;    // node -> etcd
  int responses_cut = 0;   // etcd -> node
  int isolated = 0;        // node <-> other nodes (replication)
  int responses_slow = 0;  // etcd -> node answers arrive late, but before the timeout
  int requests_slow = 0;   // node -> etcd requests arrive late, often after the worker gave up
};

// The pg_ha background worker: lives inside PostgreSQL, so it starts and dies with the postmaster.
struct Worker {
  bool alive = false;
  uint64_t incarnation = 0;
  TimeMs stalled_until_ms = -1;      // real time; the core is not stepped before then
  core::NodeMemory memory;
  core::LeaseObservation lease;
  std::map<std::string, kv::KeyValue> kvs;   // the view's keys
  int64_t view_revision = 0;
  bool view_valid = false;
  // Parsed once per change of kvs, not once per step (parsing dominates the run time).
  bool view_dirty = true;
  core::EtcdView view;
  int64_t config_mod_revision = -1;
  core::ClusterConfig config;
  uint64_t watch_gen = 0;
  // The watch a read starts can deliver before the read's answer is back: those events are held
  // until the read that started their watch has been applied (`view_gen`), then replayed on it.
  uint64_t view_gen = 0;
  std::vector<KvEvent> early_events;
  bool busy = false;                  // a request is in flight (the worker is sequential)
  uint64_t request_id = 0;
  std::vector<core::EtcdWrite> writes;       // left to send from the last decision
  size_t next_write = 0;
  bool step_wanted = true;            // something changed since the last step
  TimeMs last_keepalive_sent_ms = -1000000000;  // local
  TimeMs last_read_sent_ms = -1000000000;       // local; the agent re-reads every loop_wait
  TimeMs last_contact_sent_ms = -1;   // local send time of the last request etcd answered
  int64_t last_txn_revision = 0;
  // The lease's re-grant after a ttl change (docs/protocol.md, "Leases"): the ttl this lease was
  // asked for, when the worker first saw another (local), the new lease granted but not yet
  // holding the keys, and an old lease that may still hold some.
  int64_t lease_asked_ttl_s = 0;
  TimeMs ttl_mismatch_since_ms = -1;
  core::LeaseObservation pending_lease;
  int64_t pending_asked_ttl_s = 0;
  int64_t leftover_lease = 0;
  // Lease adoption at start (Agent::maintain_lease): tried once, from the first valid view.
  bool adoption_tried = false;
  bool followed = false;              // the core named an upstream in this incarnation
  TimeMs wake_at_ms = 0;              // local: the core asked to be stepped again by then
  // Fast takeover: the lease whose TimeToLive the core wants read, the last reading, and whether
  // the core asked to stop renewing our own lease.
  int64_t ttl_lease_wanted = 0;
  core::LeaseTtlReading leader_lease;
  TimeMs last_ttl_read_sent_ms = -1000000000;   // local
  TimeMs ttl_read_at_ms = 0;                     // local: Decision::read_lease_ttl_at
  bool hold_keepalive = false;
  bool read_backoff = false;          // the last read failed: step on the stale view first
  uint64_t tick_gen = 0;
  TimeMs tick_at_ms = -1;             // real time of the pending tick (-1 none)
  std::string last_logged_reason;
  std::optional<core::NodeState> state;   // the core's last decision state; none before the first step
  // Shared memory: the commit gate (DESIGN.md: fence fails closed).
  TimeMs deadline_ms = 0;             // local
  bool fenced = true;
};

struct Sidecar {
  bool alive = true;
  std::string done_id;
  std::string running_id;
  std::optional<core::SidecarRequest> wanted;   // the request file's content
  uint64_t gen = 0;
  TimeMs crash_at_ms = -1;            // real time of the primary crash being handled (-1 none)
  int64_t lease_of_worker = 0;        // the lease the worker last used (for release_lease)
  // A crashed primary's lease is revoked before postgres starts again (sidecar/supervisor.cpp:
  // check_primary_deadline, then start): a start due meanwhile waits for the revoke's answer or
  // its timeout.
  bool releasing = false;
  bool start_after_release = false;
  // The revokes sent without an answer yet, on record in the state folder: they survive a crash
  // of the sidecar or the whole node, and a sidecar that starts with one revokes it again and
  // starts postgres only after an answer (ClusterView::keep_revokes_in; FINDINGS F21).
  std::set<int64_t> unanswered_revokes;
};

struct Node {
  int index = 0;
  core::NodeConfig config;
  Clock clock;
  PgModel pg;
  Worker w;
  Sidecar sc;
  bool up = true;                     // the machine (a whole-node crash takes everything down)
  TimeMs suspended_at_ms = -1;        // real time the whole machine was suspended (-1: running)
  int64_t last_promoted_term = 0;
  int64_t promoting_term = 0;
  bool retired = false;               // a spare machine not (or no longer) in the cluster
  // The worker's last stop left its lease alive (crash, sidecar restart): the next worker may
  // adopt it. A clean stop revokes it in the real worker, so nothing is adopted after one.
  bool lease_kept = true;

  // The application_name its standby streams under (core::standby_application_name), cached by
  // name: the checkers ask after every event, and a spare machine takes a name when it joins.
  const std::string& stream_name() const {
    if (stream_name_of_ != config.name || stream_name_.empty()) {
      stream_name_ = core::standby_application_name(config.name, config.member_id);
      stream_name_of_ = config.name;
    }
    return stream_name_;
  }

 private:
  mutable std::string stream_name_, stream_name_of_;
};

struct Violation {
  std::string invariant;
  std::string message;
};

struct Stats {
  int64_t steps = 0, txns = 0, txn_failed = 0, commits = 0, acked = 0, sync_acked = 0;
  int64_t promotions = 0, auto_promotions = 0, faults = 0, operator_ok = 0;
  TimeMs l1_ms = -1;
};

// The durable identity (core::NodeIdentity::member_id) of machine `machine` in seed `seed`.
std::string member_id_for(uint64_t seed, int machine);

struct World {
  World(const Scenario& s, bool echo);

  Scenario sc;
  Rng rng;
  EventQueue q;
  FakeEtcd etcd;
  bool etcd_up = true;
  std::vector<Link> links;
  TimeMs lossy_until_ms = -1;         // a lossy spell (more loss, slow messages) is on until then
  std::vector<Node> nodes;
  core::Keys keys;
  Trace trace;
  uint32_t max_timeline = 1;
  Stats stats;
  ViewCache views;
  ClientState client;
  CheckerState checks;
  std::optional<Violation> violation;
  bool healed = false;
  TimeMs expiry_check_at_ms = -1;
  // etcd-side watches: node -> (worker incarnation, watch generation); delivery order per node.
  std::map<int, std::pair<uint64_t, uint64_t>> watches;
  std::vector<TimeMs> watch_last_delivery_ms;
  std::map<int64_t, int> lease_owner;   // lease id -> the node whose worker was granted it

  TimeMs now() const { return q.now(); }
  TimeMs local_now(int n) const { return nodes[static_cast<size_t>(n)].clock.local(q.now()); }
  TimeMs etcd_now() const { return sc.etcd_clock.local(q.now()); }
  Node& node(int n) { return nodes[static_cast<size_t>(n)]; }
  // The node a peer reaches under `name`: the only one of that name, or with duplicates the one
  // whose host etcd's members/<name> names (what a conninfo is built from).
  int index_of(const std::string& name) const;
  // The machine named `name` at `host` ("" host: index_of(name)); -1 when there is none.
  int index_at(const std::string& name, const std::string& host) const;
  void log(int node, const std::string& text) { trace.log(q.now(), node, text); }
  void fail(const std::string& invariant, const std::string& message);

  // Network: the delay of one message, or nullopt when it is lost.
  std::optional<TimeMs> request_delay(int n);
  std::optional<TimeMs> response_delay(int n);
  bool replication_cut(int a, int b) const;
  // A request from node n: `at_etcd` runs when it arrives (etcd up) and returns what runs at the
  // node when the answer arrives; `on_timeout` runs if no answer came within the timeout.
  // `alive` is re-checked before anything runs at the node.
  void rpc(int n, std::function<std::function<void()>()> at_etcd, std::function<void()> on_timeout,
           std::function<bool()> alive);

  // etcd side effects: every change goes through here (checkers, watches, lease timers).
  Result<kv::TxnResult> etcd_txn(const kv::Txn& t, int by_node);
  void publish(const std::vector<KvEvent>& events);
  void schedule_expiry();
  void etcd_go_down();
  void etcd_come_back(bool renew);
};

}  // namespace pg_ha::sim
