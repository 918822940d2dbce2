#include "core/step.hpp"

#include <algorithm>

#include "core/step_context.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {
namespace detail {

Ctx::Ctx(const StepInput& input, const NodeMemory& memory)
    : in(input), cfg(input.config), node(input.node), keys(input.keys), view(input.view), obs(input.obs),
      local(input.obs.local), me(input.node.name), now(input.obs.now_ms), mem(memory) {}

const MemberRecord* Ctx::member(const std::string& name) const {
  auto it = view.members.find(name);
  return it == view.members.end() ? nullptr : &it->second.value;
}

bool Ctx::holds_leader() const {
  return has_lease() && view.leader && view.leader->value.name == me && view.leader->lease == obs.lease.id;
}

StateRecord new_term_state(const Ctx& c, const StateRecord& old, const std::string& primary,
                           const std::string& also_complete) {
  StateRecord s;
  s.term = old.term + 1;
  s.primary = primary;
  if (primary == c.me) {
    s.primary_id = c.node.member_id;
  } else if (const MemberRecord* m = c.member(primary)) {
    s.primary_id = m->member_id;   // a hand-over: the candidate's record is compared in the same txn
  }
  s.timeline = 0;  // recorded by the new primary once promoted
  s.paused = old.paused;
  // The record keeps covering every commit acknowledged so far: the previous record (its
  // holders still hold them) plus the new primary, and on a hand-over the old primary, which
  // hold everything. A strict cluster that was not synchronous yet starts with just those, each
  // alone sufficient. The new primary narrows the record when it records its timeline (lead()).
  bool sync_mode = c.cfg.synchronous_mode != SyncMode::Off;
  s.sync_active = sync_mode && (old.sync_active || c.cfg.synchronous_mode_strict);
  if (s.sync_active) {
    if (old.sync_active) s.sync_standbys = old.sync_standbys;
    for (const std::string& n : {primary, also_complete}) {
      if (!n.empty() && std::find(s.sync_standbys.begin(), s.sync_standbys.end(), n) == s.sync_standbys.end()) {
        s.sync_standbys.push_back(n);
      }
    }
    std::sort(s.sync_standbys.begin(), s.sync_standbys.end());
    s.sync_quorum = old.sync_active ? std::max(1, old.sync_quorum) : static_cast<int>(s.sync_standbys.size());
  }
  record_sync_ids(c, old, s);
  return s;
}

void record_sync_ids(const Ctx& c, const StateRecord& old, StateRecord& next) {
  std::map<std::string, std::string> ids;
  for (const std::string& n : next.sync_standbys) {
    bool stays = old.sync_active && std::find(old.sync_standbys.begin(), old.sync_standbys.end(), n) != old.sync_standbys.end();
    auto was = old.sync_ids.find(n);
    std::string id;
    if (stays && was != old.sync_ids.end()) id = was->second;
    else if (n == c.me) id = c.node.member_id;
    else if (n == next.primary) id = next.primary_id;
    else if (const MemberRecord* m = c.member(n)) id = m->member_id;
    if (!id.empty()) ids[n] = id;
  }
  next.sync_ids = std::move(ids);
}

kv::RequestOp history_put(const Ctx& c, int64_t term, const std::string& reason, const std::string& old_primary,
                          const std::string& new_primary, uint32_t old_timeline, Lsn lsn) {
  HistoryRecord h;
  h.term = term;
  h.reason = reason;
  h.old_primary = old_primary;
  h.new_primary = new_primary;
  h.old_timeline = old_timeline;
  h.lsn = lsn;
  h.at_unix_ms = c.obs.wall_clock_unix_ms;
  return kv::RequestOp::put(c.keys.history(term), encode(h));
}

}  // namespace detail

StepOutput step(const StepInput& in, const NodeMemory& memory) {
  detail::Ctx c(in, memory);
  c.d.fenced = false;
  if (const std::string conflict = detail::name_conflict(c); !conflict.empty()) {
    // Another node holds our name: acting under it (heartbeat, election report, leadership)
    // would make two servers one member. Stay fenced and touch nothing of it.
    c.fence(conflict);
    c.set(NodeState::Conflict, conflict);
    detail::give_up_name(c);
  } else if (!c.local.postgres_running) {
    c.fence("postgres is not running");
    c.set(NodeState::Stopped, "postgres is not running");
  } else if (!c.local.in_recovery) {
    c.fence("this node does not hold the leader lease");  // lifted only by the leading rule
    detail::primary_side(c);
  } else {
    c.mem.switchover_to.clear();  // a switchover is the primary's; a replica forgets it
    detail::replica_side(c);
  }
  if (c.d.state != NodeState::Conflict) {
    detail::reinit_request(c);
    detail::restart_request(c);
    detail::heartbeat(c);
  }
  c.wake_in(c.cfg.loop_wait_ms);
  c.mem.last_reason = c.d.reason;
  return StepOutput{std::move(c.d), std::move(c.mem)};
}

}  // namespace pg_ha::core
