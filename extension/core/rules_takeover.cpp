// A replica's half of fast takeover (docs/protocol.md): the leader's lease has been silent in
// etcd for longer than the primary's own fence window, measured after the last write of `leader`,
// so the primary's gate is closed and stays closed until it writes `leader` again, which the
// takeover's compare on the key's revision excludes.
#include <algorithm>

#include "core/step_context.hpp"
#include "core/takeover.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

void note_leader_revision(Ctx& c) {
  int64_t rev = c.view.leader ? c.view.leader->mod_revision : 0;
  if (rev == c.mem.leader_seen_rev) return;
  c.mem.leader_seen_rev = rev;
  c.mem.leader_seen_ms = c.now;   // the write landed no later than this
}

std::string leader_silence(Ctx& c) {
  const auto& l = *c.view.leader;
  if (!c.cfg.fast_takeover || l.value.name == c.me || l.lease == 0) return "";
  if (l.value.arm == 0) return "";   // its holder does not keep the sticky fence: wait for expiry
  c.d.read_lease_ttl = l.lease;
  const LeaseTtlReading& r = c.obs.leader_lease;
  c.d.read_lease_ttl_at = r.sent_ms < 0 ? 0 : r.sent_ms + kMinLeaseReadingGapMs;
  // A reading of this lease, answered after the key's current revision was written (else the
  // write, e.g. an arm, may have come after the silence it shows).
  if (r.id != l.lease || r.header_revision < l.mod_revision || r.remaining_s < 0) return "";
  // The longer of ours and the one the primary recorded: it never uses a longer window than that.
  TimeMs need = std::max<TimeMs>(takeover_silence_ms(c.cfg), l.value.silence_ms);
  int64_t silent = lease_silence_lower_bound_ms(r.granted_s, r.remaining_s);
  // And sent long enough after the key was written that any window the write opened has closed.
  TimeMs after_write = c.mem.leader_seen_ms < 0 ? kNever : c.mem.leader_seen_ms + need;
  c.d.read_lease_ttl_at = std::max(next_lease_reading_ms(r.sent_ms, silent, need), std::min(after_write, r.sent_ms + need));
  if (silent < need || r.sent_ms < after_write) return "";
  return l.value.name + "'s lease has been silent in etcd for more than " + std::to_string(silent) + " ms";
}

}  // namespace pg_ha::core::detail
