// The primary's half of a planned switchover (and of failover() while a primary is alive):
// fence, wait until the candidate has flushed as much WAL as this primary had flushed when it last
// looked, then hand `leader` over atomically.
#include "core/step_context.hpp"
#include "core/sync_names.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

// The candidate's own stream: the member's name with the member's identity (a second node under
// the name may stream too, F16).
const StandbyConnection* standby(const Ctx& c, const std::string& name) {
  const MemberRecord* m = c.member(name);
  for (const StandbyConnection& s : c.local.standbys) {
    if (m && s.name == name && same_identity(s.member_id, m->member_id)) return &s;
  }
  return nullptr;
}

void clear_request(Ctx& c, const StateRecord& s, const std::string& why) {
  StateRecord next = s;
  next.request.reset();
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(c.keys.state(), c.view.state->mod_revision)};
  t.success = {kv::RequestOp::put(c.keys.state(), encode(next))};
  c.write("clear switchover request: " + why, std::move(t));
  c.mem.switchover_to.clear();
  c.d.reason = why;
}

// Why the candidate cannot take over now; "" = it can.
std::string refusal(const Ctx& c, const SwitchoverRequest& r) {
  if (r.to == c.me) return "the candidate is already the primary";
  const MemberRecord* m = c.member(r.to);
  if (!m) return r.to + " is no longer registered (is its node down?)";
  if (!m->tags.can_promote()) return r.to + " is tagged nofailover or has priority 0";
  if (c.view.members.at(r.to).lease == 0) return r.to + " has no lease";
  if (!standby(c, r.to)) return r.to + " is not streaming from this primary";
  return "";
}

// `leader` goes onto the lease the candidate's member key lives on, the one its keep-alives renew;
// the record's lease_id field may lag it by a heartbeat (FINDINGS.md F24).
void hand_over(Ctx& c, const StateRecord& s, const SwitchoverRequest& r) {
  int64_t lease = c.view.members.at(r.to).lease;
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(c.keys.leader(), c.view.leader->mod_revision),
               kv::Compare::mod_revision_is(c.keys.state(), c.view.state->mod_revision),
               kv::Compare::lease_is(c.keys.member(r.to), lease)};
  StateRecord next = new_term_state(c, s, r.to, c.me);  // both hold every commit
  t.success = {kv::RequestOp::put(c.keys.leader(), encode(LeaderRecord{r.to, s.term + 1}), lease),
               kv::RequestOp::put(c.keys.state(), encode(next)),
               history_put(c, s.term + 1, r.failover ? "manual failover" : "switchover", c.me, r.to, c.local.timeline,
                           c.local.flush_lsn)};
  c.write("hand leadership to " + r.to, std::move(t));
}

}  // namespace

void switchover(Ctx& c, const StateRecord& s) {
  const SwitchoverRequest& r = *s.request;
  std::string why = refusal(c, r);
  if (!why.empty()) return clear_request(c, s, "switchover to " + r.to + " refused: " + why);
  if (c.mem.switchover_to != r.to || c.mem.switchover_term != s.term) {
    // Fence in this step; hand over only in a later step, whose observation is taken after
    // the fence was published: the flush position we compare then includes every commit that
    // was past the fence check when it closed and has flushed since (one still flushing when
    // we look is not waited for).
    c.mem.switchover_to = r.to;
    c.mem.switchover_term = s.term;
    c.mem.switchover_started_ms = c.now;
    c.fence("switchover to " + r.to + " in progress");
    c.set(NodeState::Fenced, c.d.fence_reason);
    c.wake_in(10);
    return;
  }
  if (c.now - c.mem.switchover_started_ms > c.cfg.switchover_timeout_ms) {
    return clear_request(c, s, "switchover to " + r.to + " aborted: it did not catch up within " +
                                   std::to_string(c.cfg.switchover_timeout_ms) + " ms");
  }
  c.fence("switchover to " + r.to + " in progress");
  const StandbyConnection* sb = standby(c, r.to);
  if (sb->flush_lsn >= c.local.flush_lsn) {
    c.set(NodeState::Fenced, "handing leadership to " + r.to + " at " + lsn_to_string(c.local.flush_lsn));
    return hand_over(c, s, r);
  }
  c.set(NodeState::Fenced, "switchover: waiting for " + r.to + " to flush up to " + lsn_to_string(c.local.flush_lsn));
  c.wake_in(10);
}

}  // namespace pg_ha::core::detail
