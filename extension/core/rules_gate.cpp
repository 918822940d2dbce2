// The leading primary's write gate with the sticky fence (docs/protocol.md, "Fast takeover").
// A keep-alive answer extends the gate only while it is open; once the deadline has passed, only
// a write of `leader` that compares the key's revision (the arm) opens a short window in which a
// keep-alive answer counts again. A replica's takeover compares the same revision, so etcd lets
// exactly one of the two through; and a replica waits, after the last write of the key, longer
// than any window that write could have opened.
#include <algorithm>

#include "core/canaries.hpp"
#include "core/step_context.hpp"
#include "core/takeover.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

// Replicas may act on this primary's silence while `leader` carries an arm stamp, so the primary
// keeps the sticky fence then, whatever its config says now.
bool sticky(const Ctx& c) {
  if (canaries().no_sticky_fence) return false;
  return c.cfg.fast_takeover || c.view.leader->value.arm != 0;
}

// The deadline a keep-alive (or an arm) sent at `sent` gives, on the current lease, no longer than
// the silence recorded in `leader` lets replicas assume (the config may have changed since).
TimeMs window_end(const Ctx& c, TimeMs sent) {
  if (sent <= 0) return -1;
  TimeMs end = write_deadline_after_keepalive(c.cfg, sent, c.obs.lease.granted_ttl_s);
  const LeaderRecord& l = c.view.leader->value;
  if (end <= 0 || l.arm == 0) return end;
  return std::min(end, sent + window_for_silence_ms(c.cfg, l.silence_ms));
}

// Rewrites `leader` unchanged but for a new arm stamp, only if it is still the revision we read.
void send_arm(Ctx& c) {
  const auto& l = *c.view.leader;
  kv::Txn t;
  if (!canaries().no_rearm_compare) {
    t.compare = {kv::Compare::mod_revision_is(c.keys.leader(), l.mod_revision),
                 kv::Compare::lease_is(c.keys.leader(), c.obs.lease.id)};
  }
  LeaderRecord next = l.value;
  next.arm = new_arm_stamp(c);
  next.silence_ms = takeover_silence_ms(c.cfg);
  t.success = {kv::RequestOp::put(c.keys.leader(), encode(next), c.obs.lease.id)};
  c.write(std::string(kArmWhat) + " (term " + std::to_string(next.term) + ")", std::move(t));
}

// Our last arm never showed up in the view, yet a keep-alive sent after it came back in time: etcd
// serves us again but did not take the arm (an etcd leader election, during which no member can
// write, ate it). Neither a window (the arm opened none) nor the back-off of a slow link (the
// link is fine now) is called for: arm again at once (issue 14 item 6). On a slow link no
// keep-alive comes back in time, so this never fires there. Safe whenever it fires: an arm only
// ever lands by its compare on `leader`'s revision, which a takeover changes.
bool arm_lost(const Ctx& c) {
  TimeMs stamp = c.mem.arm_stamp_ms;
  return stamp > 0 && c.view.leader->value.arm != stamp && c.obs.lease.last_ok_sent_ms > stamp &&
         window_end(c, c.obs.lease.last_ok_sent_ms) > c.now;
}

// Lapsed: wait for a pending arm's window, arm again, or (backing off after an arm that gave no
// licence) stop renewing the lease so that its silence shows in etcd.
void rearm(Ctx& c) {
  if (arm_lost(c)) {
    send_arm(c);
    c.mem.rearm_after_ms = c.now + rearm_backoff_ms(c.cfg);
    return;
  }
  TimeMs window = window_end(c, c.mem.arm_stamp_ms);
  if (c.now < window) {
    c.wake_in(window - c.now);
    return;
  }
  if (c.mem.rearm_after_ms < 0 || c.now >= c.mem.rearm_after_ms) {
    send_arm(c);
    c.mem.rearm_after_ms = c.now + rearm_backoff_ms(c.cfg);
    return;
  }
  c.d.hold_keepalive = true;
  c.wake_in(c.mem.rearm_after_ms - c.now);
}

}  // namespace

TimeMs new_arm_stamp(Ctx& c) {
  if (!c.cfg.fast_takeover) return 0;
  c.mem.arm_stamp_ms = std::max<TimeMs>(c.now, 1);
  return c.mem.arm_stamp_ms;
}

LeaderRecord leader_record(Ctx& c, int64_t term) {
  LeaderRecord r{c.me, term, new_arm_stamp(c), 0};
  if (r.arm != 0) r.silence_ms = takeover_silence_ms(c.cfg);
  return r;
}

TimeMs gate_deadline(Ctx& c) {
  TimeMs fresh = window_end(c, c.obs.lease.last_ok_sent_ms);
  if (!sticky(c)) {
    c.mem.licence_until_ms = fresh;
    return std::max<TimeMs>(fresh, 0);
  }
  const LeaderRecord& l = c.view.leader->value;
  TimeMs armed_until = l.arm != 0 && l.arm == c.mem.arm_stamp_ms ? window_end(c, l.arm) : -1;
  // The last keep-alive's answer arrived before this step: if the gate was still open now, it was
  // open then, and the answer counts. Otherwise it may have come after a replica saw the silence.
  TimeMs open_until = std::max(std::min(c.mem.licence_until_ms, fresh), armed_until);
  if (c.now < open_until && fresh > c.mem.licence_until_ms) {
    c.mem.licence_until_ms = fresh;
    if (fresh > c.now) c.mem.rearm_after_ms = -1;   // a licence: the next lapse re-arms at once
  }
  // Never past what the current lease and the recorded silence allow (a re-grant, a config change).
  // The licence shrinks with it: a licence kept from a longer lease would let an answer that comes
  // after the published gate closed count as one that came while it was open (F18, seed 82937).
  TimeMs deadline = std::min(c.mem.licence_until_ms, fresh);
  c.mem.licence_until_ms = deadline;
  if (c.now < deadline) {
    // Open. A `leader` without our stamp (written before fast takeover was on) keeps replicas
    // waiting for the lease, one with another silence than our config's makes them wait too long
    // or cuts our windows short: write it again, no fence needed.
    bool outdated = l.arm == 0 || l.silence_ms != takeover_silence_ms(c.cfg);
    if (outdated && c.cfg.fast_takeover && c.now >= window_end(c, c.mem.arm_stamp_ms)) send_arm(c);
    return deadline;
  }
  rearm(c);
  return 0;
}

}  // namespace pg_ha::core::detail
