// The invariants of DESIGN.md §5, checked against the simulator's ground truth (real time, the
// fake etcd's actual state, every PostgreSQL's actual WAL), never against a node's beliefs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "clock.hpp"
#include "common/kv.hpp"
#include "core/decision.hpp"
#include "core/schema.hpp"
#include "fake_etcd.hpp"
#include "pg_model.hpp"

namespace pg_ha::sim {

struct World;

struct AutoPromotion {
  std::string name;
  bool has_optime = false;
  Lsn optime_lsn = 0;
  int64_t max_lag = 0;
};

struct CheckerState {
  std::map<int64_t, std::set<std::string>> term_winners;   // every (leader, state) pair seen per term
  std::map<int64_t, AutoPromotion> auto_promotions;         // term -> automatic winner (I4)
  std::set<int64_t> forced_terms;                           // manual failover with force (I3 exempt)
  std::map<int64_t, int> term_holder;                       // term -> the machine that first held leader for it
  // timeline -> every LSN acknowledged synchronously on it and still promised: a forced manual
  // failover gives up those its winner lacks (on_promote_done), so all of them, not just the
  // highest, are kept to know what remains.
  std::map<uint32_t, std::set<Lsn>> sync_acked;
  // etcd's leader and state, decoded once per revision (checked after every event).
  int64_t leader_rev = -1, state_rev = -1;
  std::optional<core::LeaderRecord> leader;
  std::optional<core::StateRecord> state;
  // Memos of pure functions the checkers call after every event or txn (same answers, less CPU):
  // synchronous_standby_names -> its rule; a member record's text -> its identity (nullopt: the
  // text does not decode). Bounded: cleared when large.
  std::map<std::string, SyncRule> ssn_rules;
  std::map<std::string, std::optional<std::string>> member_ids;
};

// parse_ssn(text), remembered per text.
const SyncRule& sync_rule(CheckerState& c, const std::string& ssn);

// The commit gate the extension enforces (the brief's rule 4).
bool can_commit(const World& w, int n);

void check_one_writer(World& w);                                   // I1, after every event
void check_writer_holds_leader(World& w);                          // I1-lease, after every event
void check_sync_recorded(World& w);                                // I3-order, after every event
void before_txn(World& w, const kv::Txn& t);                       // I5 and I4 bookkeeping
void after_txn(World& w, const std::vector<KvEvent>& events);     // I2: one winner per term
void on_promote_start(World& w, int n, int64_t view_term);         // I2
void on_promote_done(World& w, int n, int64_t term);               // I3, I4
void check_ack_by_writer(World& w, int n);                         // I1-ack, before every acknowledgement
void on_ack(World& w, uint32_t timeline, Lsn lsn, bool sync);
// ID (issue 12): no node acts under another identity. A put by node n under a lease uses n's
// own lease (the leader key of a hand-over: the lease of a node of the name it names); a member
// record carries its writer's identity and never replaces a live record of another identity.
void check_identity_puts(World& w, const kv::Txn& t, int by_node);   // before a txn applies
void check_lease_user(World& w, int n, int64_t lease, const char* what);   // a keep-alive by n
int lease_owner(const World& w, int64_t lease);                    // -1: not granted to a worker
// ST (issue 17): every state change a step makes is a row of the core's transition table
// (core/node_state.cpp). `from` is the worker's previous decision; none on its first step.
void check_transition(World& w, int n, std::optional<core::NodeState> from, const core::Decision& to);
void check_liveness_progress(World& w);                            // L1 timer after healing
void check_liveness_end(World& w);                                 // L1

}  // namespace pg_ha::sim
