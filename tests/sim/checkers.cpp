#include "checkers.hpp"

#include <algorithm>
#include <iterator>
#include <optional>

#include "world.hpp"
#include "core/sync_names.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

bool can_commit(const World& w, int n) {
  const Node& x = w.nodes[static_cast<size_t>(n)];
  return x.up && x.suspended_at_ms < 0 && x.pg.running && !x.pg.in_recovery && x.clock.local(w.now()) < x.w.deadline_ms;
}

void check_one_writer(World& w) {
  std::vector<int> open;
  for (const Node& x : w.nodes) {
    if (can_commit(w, x.index)) open.push_back(x.index);
  }
  if (open.size() < 2) return;
  std::string msg = "nodes can commit at the same instant:";
  for (int n : open) {
    const Node& x = w.node(n);
    msg += " " + x.config.name + " (local " + std::to_string(x.clock.local(w.now())) + " < deadline " +
           std::to_string(x.w.deadline_ms) + ", timeline " + std::to_string(x.pg.wal.timeline) + ")";
  }
  w.fail("I1", msg);
}

namespace {

template <class T, class F>
std::optional<T> read_key(const World& w, const std::string& key, F decode);

// etcd's current leader / state, decoded once per change.
const std::optional<core::LeaderRecord>& etcd_leader(World& w) {
  const kv::KeyValue* v = w.etcd.get(w.keys.leader());
  int64_t rev = v ? v->mod_revision : 0;
  if (rev != w.checks.leader_rev) {
    w.checks.leader_rev = rev;
    w.checks.leader = read_key<core::LeaderRecord>(w, w.keys.leader(), core::decode_leader);
  }
  return w.checks.leader;
}

const std::optional<core::StateRecord>& etcd_state(World& w) {
  const kv::KeyValue* v = w.etcd.get(w.keys.state());
  int64_t rev = v ? v->mod_revision : 0;
  if (rev != w.checks.state_rev) {
    w.checks.state_rev = rev;
    w.checks.state = read_key<core::StateRecord>(w, w.keys.state(), core::decode_state);
  }
  return w.checks.state;
}

}  // namespace

// DESIGN.md §4: only the holder of `leader` may accept writes. Stronger than I1 and needs no
// second primary to show a fence that ends too late: whenever a node can commit, etcd's
// `leader` names it and its lease has not run out on etcd's clock.
// Why node x may not commit now by etcd's ground truth ("" when it may): etcd's `leader` must
// name it and its lease must not have run out on etcd's clock.
std::string why_not_writer(World& w, const Node& x) {
  const kv::KeyValue* l = w.etcd.get(w.keys.leader());
  const auto& leader = etcd_leader(w);
  if (!l || !leader) return "etcd has no leader";
  if (leader->name != x.config.name) return "etcd's leader is " + leader->name;
  if (lease_owner(w, l->lease) != x.index) return "etcd's leader key is under the lease of another machine named " + leader->name;
  if (w.etcd.lease_expiry_ms(l->lease) <= w.etcd_now())
    return "its lease expired on etcd's clock " + std::to_string(w.etcd_now() - w.etcd.lease_expiry_ms(l->lease)) + " ms ago";
  return "";
}

void check_writer_holds_leader(World& w) {
  for (const Node& x : w.nodes) {
    if (!can_commit(w, x.index)) continue;
    std::string why = why_not_writer(w, x);
    if (!why.empty()) {
      w.fail("I1-lease", x.config.name + " can commit (local " + std::to_string(x.clock.local(w.now())) + " < deadline " +
                             std::to_string(x.w.deadline_ms) + ") but " + why);
      return;
    }
  }
}

// I1 at the moment a client is told "committed": a commit that passed its pre-commit check in time
// but stalled before its end must not be acknowledged once another node may be writing.
void check_ack_by_writer(World& w, int n) {
  const Node& x = w.node(n);
  std::string why = why_not_writer(w, x);
  if (!why.empty()) w.fail("I1-ack", x.config.name + " acknowledged a commit but " + why);
}

// I3's precondition, checked at every instant rather than only when a promotion happens: a
// commit acknowledged now must be on enough members of the recorded set that every election
// (which needs |S| - q + 1 reports from the recorded set S with quorum q and takes the best)
// sees one. A commit is on the primary itself and on at least k of the named standbys, so in
// the worst case on ([primary in S] + max(0, k - |named outside S|)) members of S; that must
// be >= q. An inactive record means elections ignore the set: nothing named is protected.
// An asynchronous commit is on the primary alone: with an active record, the primary must be in
// it with quorum 1 (the record then says only it is complete), or an election could lose it.
void check_alone_recorded(World& w, const Node& x) {
  const auto& state = etcd_state(w);
  if (!state || !state->sync_active || state->sync_standbys.empty()) return;
  const auto& set = state->sync_standbys;
  bool in_set = std::find(set.begin(), set.end(), x.config.name) != set.end();
  if (in_set && state->sync_quorum <= 1) return;
  const kv::KeyValue* st = w.etcd.get(w.keys.state());
  w.fail("I3-order", x.config.name + " can commit asynchronously but the active recorded set does not make it the complete member (etcd state: " +
                         (st ? st->value : std::string("none")) + ")");
}

void check_sync_recorded(World& w) {
  for (const Node& x : w.nodes) {
    if (!can_commit(w, x.index)) continue;
    const SyncRule& rule = sync_rule(w.checks, x.pg.synchronous_standby_names);
    if (!rule.sync) {
      check_alone_recorded(w, x);
      continue;
    }
    // PostgreSQL counts a machine's acknowledgements under its application_name (name and
    // identity); it holds a commit for the record only under the identity recorded (F16).
    std::vector<const Node*> named;
    for (const Node& m : w.nodes) {
      bool listed = false;
      for (const std::string& s : rule.names) listed |= s == m.stream_name() || s == "*";
      if (listed && m.index != x.index) named.push_back(&m);
    }
    if (static_cast<int>(named.size()) < rule.k) continue;   // cannot acknowledge anything
    const auto& state = etcd_state(w);
    std::string why;
    if (!state || !state->sync_active) {
      why = "the recorded set is not active";
    } else if (!state->sync_standbys.empty()) {
      const auto& set = state->sync_standbys;
      auto in_set = [&](const Node& m) {
        auto id = state->sync_ids.find(m.config.name);
        return std::find(set.begin(), set.end(), m.config.name) != set.end() &&
               (id == state->sync_ids.end() || id->second == m.config.member_id);
      };
      int outside = 0;
      for (const Node* m : named) outside += in_set(*m) ? 0 : 1;
      int holders = (in_set(x) ? 1 : 0) + std::max(0, rule.k - outside);
      if (holders < state->sync_quorum) {
        why = "a commit acknowledged now may be on only " + std::to_string(holders) + " of the recorded set (quorum " +
              std::to_string(state->sync_quorum) + ")";
      }
    }
    if (!why.empty()) {
      const kv::KeyValue* st = w.etcd.get(w.keys.state());
      w.fail("I3-order", x.config.name + " can commit with synchronous_standby_names '" + x.pg.synchronous_standby_names +
                             "' but " + why + " (etcd state: " + (st ? st->value : std::string("none")) + ")");
      return;
    }
  }
}

namespace {

template <class T, class F>
std::optional<T> read_key(const World& w, const std::string& key, F decode) {
  const kv::KeyValue* v = w.etcd.get(key);
  if (!v) return std::nullopt;
  auto r = decode(v->value);
  if (!r.ok()) return std::nullopt;
  return *r;
}

core::ClusterConfig etcd_config(const World& w) {
  auto c = read_key<core::ClusterConfig>(w, w.keys.config(), core::parse_cluster_config);
  return c ? *c : w.sc.config;
}

// I5's order, written independently of the core: (timeline, LSN) high first, then priority,
// then name.
bool better(const core::ElectionReport& a, const core::ElectionReport& b) {
  if (a.timeline != b.timeline) return a.timeline > b.timeline;
  if (a.lsn != b.lsn) return a.lsn > b.lsn;
  if (a.tags.priority != b.tags.priority) return a.tags.priority > b.tags.priority;
  return a.name < b.name;
}

bool eligible(const core::ElectionReport& r, const core::ClusterConfig& cfg, const std::optional<core::OptimeRecord>& optime,
              const std::optional<core::StateRecord>& state) {
  if (r.tags.nofailover || r.tags.priority <= 0) return false;
  if (optime && r.lsn + static_cast<Lsn>(cfg.maximum_lag_on_failover) < optime->lsn) return false;
  if (state && state->sync_active &&
      std::find(state->sync_standbys.begin(), state->sync_standbys.end(), r.name) == state->sync_standbys.end()) {
    return false;
  }
  // A recorded name speaks only with the identity recorded for it (docs/protocol.md, FINDINGS F12).
  if (state && state->sync_active) {
    auto id = state->sync_ids.find(r.name);
    if (id != state->sync_ids.end() && !id->second.empty() && id->second != r.member_id) return false;
  }
  return true;
}

// I5: the automatic winner is the best eligible report in etcd as its txn commits.
void check_best_candidate(World& w, const core::HistoryRecord& h) {
  core::ClusterConfig cfg = etcd_config(w);
  auto optime = read_key<core::OptimeRecord>(w, w.keys.optime(), core::decode_optime);
  auto state = read_key<core::StateRecord>(w, w.keys.state(), core::decode_state);
  std::string prefix = w.keys.election_term_prefix(h.term);
  std::optional<core::ElectionReport> best;
  bool winner_reported = false;
  std::string seen;
  for (const kv::KeyValue& v : w.etcd.range(prefix, kv::prefix_end(prefix))) {
    auto r = core::decode_report(v.value);
    if (!r.ok()) continue;
    winner_reported |= r->name == h.new_primary;
    bool ok = eligible(*r, cfg, optime, state);
    seen += " " + r->name + "=" + std::to_string(r->timeline) + "/" + std::to_string(r->lsn) + (ok ? "" : "(ineligible)");
    if (ok && (!best || better(*r, *best))) best = *r;
  }
  AutoPromotion a{h.new_primary, optime.has_value(), optime ? optime->lsn : 0, cfg.maximum_lag_on_failover};
  w.checks.auto_promotions[h.term] = a;
  w.stats.auto_promotions += 1;
  if (!winner_reported || !best || best->name != h.new_primary) {
    w.fail("I5", h.new_primary + " won term " + std::to_string(h.term) + " but the best eligible report is " +
                     (best ? best->name : std::string("none")) + "; reports:" + seen);
  }
}

}  // namespace

void before_txn(World& w, const kv::Txn& t) {
  if (!w.etcd.compares_hold(t)) return;
  for (const kv::RequestOp& op : t.success) {   // etcd refuses the whole txn for a dead lease
    if (op.kind == kv::RequestOp::Kind::Put && op.lease != 0 && !w.etcd.lease_alive(op.lease)) return;
  }
  std::string hist = w.keys.history_prefix();
  for (const kv::RequestOp& op : t.success) {
    if (op.kind != kv::RequestOp::Kind::Put || op.key.compare(0, hist.size(), hist) != 0) continue;
    auto h = core::decode_history(op.value);
    if (!h.ok()) continue;
    w.log(-1, "etcd: term " + std::to_string(h->term) + " starts: " + h->reason + " to " + h->new_primary);
    if (h->reason == "failover") check_best_candidate(w, *h);
    auto state = read_key<core::StateRecord>(w, w.keys.state(), core::decode_state);
    if (h->reason == "manual failover" && state && state->request && state->request->force) w.checks.forced_terms.insert(h->term);
  }
}

void after_txn(World& w, const std::vector<KvEvent>& events) {
  bool relevant = false;
  for (const KvEvent& e : events) relevant |= e.kv.key == w.keys.leader() || e.kv.key == w.keys.state();
  if (!relevant) return;
  auto leader = read_key<core::LeaderRecord>(w, w.keys.leader(), core::decode_leader);
  auto state = read_key<core::StateRecord>(w, w.keys.state(), core::decode_state);
  if (!leader || !state || leader->term != state->term || leader->name != state->primary) return;
  auto& winners = w.checks.term_winners[leader->term];
  winners.insert(leader->name);
  if (winners.size() > 1) {
    std::string names;
    for (const std::string& s : winners) names += " " + s;
    w.fail("I2", "term " + std::to_string(leader->term) + " was won by more than one node:" + names);
  }
}

void on_promote_start(World& w, int n, int64_t view_term) {
  const Node& x = w.node(n);
  auto it = w.checks.term_winners.find(view_term);
  bool committed = it != w.checks.term_winners.end() && it->second.size() == 1 && it->second.count(x.config.name);
  if (!committed) {
    w.fail("I2", x.config.name + " promotes for term " + std::to_string(view_term) +
                     ", which etcd never committed with it as leader and primary");
  } else if (view_term <= x.last_promoted_term) {
    w.fail("I2", x.config.name + " promotes again for term " + std::to_string(view_term) + " (it promoted for term " +
                     std::to_string(x.last_promoted_term) + " before)");
  }
}

namespace {

// A manual failover with force => true promotes its candidate knowing that it may lack commits
// acknowledged synchronously (plan_failover refuses it otherwise): the operator gives those up,
// and the term's promotion is exempt from I3. What the winner lacks is then lost for good, so it
// is no longer promised to later promotions either, which would otherwise fail I3 for the forced
// term's loss (seeds 16956 and 21646). Called when the forced promotion completes: commits
// acknowledged later stay checked (none can be on the old timeline past the fork: the candidate
// takes over only once `leader` is gone, so the old primary's gate has closed, by I1-lease).
void forget_given_up_commits(World& w, const Lineage& wal) {
  for (auto it = w.checks.sync_acked.begin(); it != w.checks.sync_acked.end();) {
    Lsn end = 0;
    std::set<Lsn>& acked = it->second;
    bool on_it = wal.end_on(it->first, &end);
    auto lost = on_it ? acked.upper_bound(end) : acked.begin();
    if (lost != acked.end()) {
      w.log(-1, "checker: the forced failover gives up " + std::to_string(std::distance(lost, acked.end())) +
                    " synchronously acknowledged commit(s) on timeline " + std::to_string(it->first) + " from LSN " +
                    std::to_string(*lost) + " to " + std::to_string(*acked.rbegin()));
    }
    acked.erase(lost, acked.end());
    it = acked.empty() ? w.checks.sync_acked.erase(it) : std::next(it);
  }
}

}  // namespace

void on_promote_done(World& w, int n, int64_t term) {
  const Node& x = w.node(n);
  // The lineage before the new timeline began: the ancestors now include the old timeline.
  const Lineage& wal = x.pg.wal;
  if (w.checks.forced_terms.count(term)) {
    forget_given_up_commits(w, wal);
  } else {
    for (const auto& [tl, acked] : w.checks.sync_acked) {
      Lsn lsn = *acked.rbegin();
      if (!wal.contains(tl, lsn)) {
        w.fail("I3", x.config.name + " promoted for term " + std::to_string(term) + " with WAL " + wal.describe() +
                         " lacks a synchronously acknowledged commit at timeline " + std::to_string(tl) + " LSN " +
                         std::to_string(lsn));
        return;
      }
    }
  }
  auto a = w.checks.auto_promotions.find(term);
  if (a == w.checks.auto_promotions.end() || a->second.name != x.config.name || !a->second.has_optime) return;
  Lsn at = wal.ancestors.empty() ? wal.flush : wal.ancestors.back().second;
  if (at + static_cast<Lsn>(a->second.max_lag) < a->second.optime_lsn) {
    w.fail("I4", x.config.name + " promoted automatically at LSN " + std::to_string(at) + ", more than " +
                     std::to_string(a->second.max_lag) + " behind the last optime " + std::to_string(a->second.optime_lsn));
  }
}

void on_ack(World& w, uint32_t timeline, Lsn lsn, bool sync) {
  w.stats.acked += 1;
  if (!sync) return;
  w.stats.sync_acked += 1;
  w.checks.sync_acked[timeline].insert(lsn);
}

void check_liveness_progress(World& w) {
  if (!w.healed || w.stats.l1_ms >= 0) return;
  const auto& leader = etcd_leader(w);
  const kv::KeyValue* l = w.etcd.get(w.keys.leader());
  if (!leader || !l) return;
  int n = lease_owner(w, l->lease);
  if (n >= 0 && w.node(n).config.name == leader->name && can_commit(w, n)) w.stats.l1_ms = w.now() - w.sc.heal_at_ms;
}

int lease_owner(const World& w, int64_t lease) {
  auto it = w.lease_owner.find(lease);
  return it == w.lease_owner.end() ? -1 : it->second;
}

namespace {

std::string machine(const World& w, int n) {
  const Node& x = w.nodes[static_cast<size_t>(n)];
  return x.config.name + " (machine " + std::to_string(n) + ", identity " + x.config.member_id + ")";
}

}  // namespace

namespace {

// The identity in a member record's text, decoded once per text; nullopt when it does not decode.
const std::optional<std::string>& member_id_of(CheckerState& c, const std::string& text) {
  auto it = c.member_ids.find(text);
  if (it != c.member_ids.end()) return it->second;
  if (c.member_ids.size() > 4096) c.member_ids.clear();
  auto m = core::decode_member(text);
  return c.member_ids[text] = m.ok() ? std::optional<std::string>(m->member_id) : std::nullopt;
}

}  // namespace

const SyncRule& sync_rule(CheckerState& c, const std::string& ssn) {
  auto it = c.ssn_rules.find(ssn);
  if (it != c.ssn_rules.end()) return it->second;
  if (c.ssn_rules.size() > 256) c.ssn_rules.clear();
  return c.ssn_rules[ssn] = parse_ssn(ssn);
}

void check_identity_puts(World& w, const kv::Txn& t, int by_node) {
  if (by_node < 0 || !w.etcd.compares_hold(t)) return;
  for (const kv::RequestOp& op : t.success) {   // etcd refuses the whole txn for a dead lease
    if (op.kind == kv::RequestOp::Kind::Put && op.lease != 0 && !w.etcd.lease_alive(op.lease)) return;
  }
  const Node& x = w.node(by_node);
  std::string members = w.keys.members_prefix();
  for (const kv::RequestOp& op : t.success) {
    if (op.kind != kv::RequestOp::Kind::Put) continue;
    int owner = op.lease == 0 ? by_node : lease_owner(w, op.lease);
    if (op.key == w.keys.leader()) {
      auto l = core::decode_leader(op.value);
      if (owner < 0 || !l.ok() || w.node(owner).config.name != l->name) {
        w.fail("ID", machine(w, by_node) + " puts leader " + (l.ok() ? l->name : "?") + " under lease " +
                         std::to_string(op.lease) + (owner < 0 ? " of no worker" : " of " + machine(w, owner)));
        return;
      }
      // A term is one machine's: taking it again (reclaim) is only for the machine that won it,
      // whose WAL is that term's newest; another of the same name has other WAL.
      auto held = w.checks.term_holder.emplace(l->term, owner).first;
      if (held->second != owner) {
        w.fail("ID", machine(w, owner) + " takes leader for term " + std::to_string(l->term) + ", which " +
                         machine(w, held->second) + " held");
        return;
      }
      continue;
    }
    if (owner != by_node) {
      w.fail("ID", machine(w, by_node) + " puts " + op.key + " under lease " + std::to_string(op.lease) + " of " +
                       (owner < 0 ? std::string("no worker") : machine(w, owner)));
      return;
    }
    if (op.key.compare(0, members.size(), members) != 0) continue;
    const auto& mine = member_id_of(w.checks, op.value);
    if (mine && *mine != x.config.member_id) {
      w.fail("ID", machine(w, by_node) + " writes " + op.key + " with identity " + *mine);
      return;
    }
    const kv::KeyValue* prev = w.etcd.get(op.key);
    if (!prev) continue;
    const auto& theirs = member_id_of(w.checks, prev->value);
    if (theirs && !theirs->empty() && *theirs != x.config.member_id && w.etcd.lease_alive(prev->lease)) {
      w.fail("ID", machine(w, by_node) + " overwrites " + op.key + ", the live record (lease " + std::to_string(prev->lease) +
                       ") of identity " + *theirs);
      return;
    }
  }
}

void check_lease_user(World& w, int n, int64_t lease, const char* what) {
  int owner = lease_owner(w, lease);
  if (owner == n) return;
  w.fail("ID", machine(w, n) + " " + what + " lease " + std::to_string(lease) + " of " +
                   (owner < 0 ? std::string("no worker") : machine(w, owner)));
}

void check_transition(World& w, int n, std::optional<core::NodeState> from, const core::Decision& to) {
  if (core::transition_allowed(from, to.state)) return;
  std::string was = from ? core::state_name(*from) : "(first step)";
  w.fail("ST", machine(w, n) + " went from " + was + " to " + core::state_name(to.state) + " (" + to.reason +
                   "): not a transition of core/node_state.cpp");
}

// With two machines under one name, the one whose term it is, or a recorded member of the
// synchronous set whose report an election needs (only that identity speaks for the name, F12),
// may be the one refused the name: then only an operator can go on (rename or remove one; force a
// failover). L1 is about faults that heal, and this one does not.
std::string identity_out(const World& w, const std::string& id, const std::string& role) {
  for (const Node& x : w.nodes) {
    if (x.config.member_id != id) continue;
    std::string who = x.config.name + " (machine " + std::to_string(x.index) + "), " + role + ", ";
    if (x.retired) return who + "was removed";
    if (x.w.alive && x.w.state == core::NodeState::Conflict) return who + "is refused its name";
  }
  return "";
}

std::string term_holder_out(World& w) {
  const auto& state = etcd_state(w);
  if (!state) return "";
  if (!state->primary_id.empty()) {
    if (std::string why = identity_out(w, state->primary_id, "whose term it is"); !why.empty()) return why;
  }
  if (!state->sync_active) return "";
  // An election needs |S| - q + 1 reports from the set: q members out leave too few.
  std::string whys;
  int out = 0;
  for (const auto& [name, id] : state->sync_ids) {
    std::string why = identity_out(w, id, "a recorded synchronous member");
    if (why.empty()) continue;
    out += 1;
    whys += (whys.empty() ? "" : "; ") + why;
  }
  return out >= std::max(1, state->sync_quorum) ? whys : "";
}

void check_liveness_end(World& w) {
  if (w.stats.l1_ms >= 0) return;
  if (std::string why = term_holder_out(w); !why.empty()) {
    w.log(-1, "L1 not checked: " + why);
    return;
  }
  w.fail("L1", "no writable primary within " + std::to_string(w.sc.liveness_bound_ms) + " ms after the faults healed");
}

}  // namespace pg_ha::sim
