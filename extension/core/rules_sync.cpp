// Synchronous replication on the primary (I3). The recorded set in `state` always covers
// synchronous_standby_names: a standby is recorded before it is named, and un-recorded only after
// it is no longer named and the remaining set holds everything acknowledged before the change.
// The recorded quorum never exceeds the named one.
#include <algorithm>

#include "core/canaries.hpp"
#include "core/step_context.hpp"
#include "core/sync_names.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

constexpr const char* kNoStandby = "pg_ha_no_sync_standby";  // strict mode with nobody: commits wait

std::string application_name(const StandbyConnection& s) { return standby_application_name(s.name, s.member_id); }

Lsn standby_flush(const Ctx& c, const std::string& application) {
  for (const StandbyConnection& s : c.local.standbys) {
    if (application_name(s) == application) return s.flush_lsn;
  }
  return 0;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The record names members by name and identity; synchronous_standby_names names the
// application_names they stream under, which carry both (F16). These two convert.
SyncNames recorded_applications(const StateRecord& s) {
  if (!s.sync_active) return SyncNames{};
  SyncNames out{s.sync_quorum, {}};
  for (const std::string& n : s.sync_standbys) {
    auto id = s.sync_ids.find(n);
    out.names.push_back(standby_application_name(n, id == s.sync_ids.end() ? "" : id->second));
  }
  std::sort(out.names.begin(), out.names.end());
  return out;
}

std::vector<std::string> member_names(const std::vector<std::string>& applications) {
  std::vector<std::string> out;
  for (const std::string& a : applications) out.push_back(parse_standby_application_name(a).name);
  return out;
}

// A name recorded with another identity than its member record's now: the node under the name is
// not the one recorded (F12). It is left out, so the name leaves the set by the usual rules and
// can join again with the new identity.
bool recorded_as_another(const StateRecord& s, const MemberRecord& m) {
  auto id = s.sync_ids.find(m.name);
  return id != s.sync_ids.end() && !m.member_id.empty() && id->second != m.member_id;
}

// The set we want, as application_names: healthy streaming standbys that may be synchronous, those
// keeping up first, then current members (a stable set avoids churn), then by position. A
// standby streams as the member only with its identity (F16). A standby that can never be promoted (nofailover,
// priority 0) is not wanted: commits only it acknowledged could not survive a failover, and as a
// recorded member it never reports, so an election needing its report could never finish (L1).
SyncNames wanted(const Ctx& c, const StateRecord& s) {
  std::vector<const StandbyConnection*> healthy;
  for (const StandbyConnection& sb : c.local.standbys) {
    const MemberRecord* m = c.member(sb.name);
    if (sb.streaming && m && same_identity(sb.member_id, m->member_id) && !m->tags.nosync && m->tags.can_promote() &&
        m->role == Role::Replica && !(s.sync_active && recorded_as_another(s, *m))) {
      healthy.push_back(&sb);
    }
  }
  // A standby too far behind (maximum_lag_on_syncnode) makes every commit wait for it: any
  // standby that keeps up is preferred, a lagging one is named only when none is left.
  auto lagging = [&](const StandbyConnection* sb) {
    Lsn limit = static_cast<Lsn>(c.cfg.maximum_lag_on_syncnode);
    return limit > 0 && sb->flush_lsn + limit < c.local.flush_lsn;
  };
  std::sort(healthy.begin(), healthy.end(), [&](const StandbyConnection* a, const StandbyConnection* b) {
    if (lagging(a) != lagging(b)) return !lagging(a);
    bool ka = contains(s.sync_standbys, a->name), kb = contains(s.sync_standbys, b->name);
    if (ka != kb) return ka;
    if (a->flush_lsn != b->flush_lsn) return a->flush_lsn > b->flush_lsn;
    return a->name < b->name;
  });
  SyncNames w;
  size_t n = static_cast<size_t>(c.cfg.synchronous_node_count);
  for (const StandbyConnection* sb : healthy) {
    if (c.cfg.synchronous_mode == SyncMode::On && w.names.size() >= n) break;
    if (!contains(w.names, application_name(*sb))) w.names.push_back(application_name(*sb));  // a reconnect shows twice
  }
  std::sort(w.names.begin(), w.names.end());
  w.quorum = static_cast<int>(std::min(n, w.names.size()));
  return w;
}

void record(Ctx& c, const StateRecord& s, bool active, const SyncNames& set, const std::string& why) {
  StateRecord next = s;
  next.sync_active = active;
  next.sync_quorum = set.quorum;
  next.sync_standbys = set.names;
  put_sync_state(c, next, why);
}

kv::Txn sync_state_txn(const Ctx& c, int64_t compare_rev, const std::string& value) {
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(c.keys.state(), compare_rev)};
  t.success = {kv::RequestOp::put(c.keys.state(), value)};
  return t;
}

void turn_off(Ctx& c, const StateRecord& s, const char* why) {
  if (s.sync_active) {
    // Record first, then clear the setting; no commit is acknowledged in between, since the
    // record would no longer cover a synchronous acknowledgement.
    c.fence("turning synchronous replication off");
    c.wake_in(50);
    return record(c, s, false, SyncNames{}, why);
  }
  c.d.synchronous_standby_names = "";
}

// Non-strict with no healthy standby: commits go on without waiting, acknowledged by this
// primary alone. The record says so first (this node alone holds everything, as Patroni's
// /sync does), so if it dies nobody is promoted automatically (I3): it is the one to come back.
// A standby that just disconnected often comes back within a loop (a restart, a blip), and a
// primary that is dying sees its standbys go first: recording "alone" then would block the very
// failover that follows. So commits wait for one loop_wait before the primary goes on alone.
void primary_alone(Ctx& c, const StateRecord& s) {
  SyncNames alone{1, {c.me}};
  SyncNames rec{s.sync_quorum, s.sync_standbys};
  if (!s.sync_active || rec != alone) {
    if (c.mem.sync_none_since_ms < 0) c.mem.sync_none_since_ms = c.now;
    TimeMs waited = c.now - c.mem.sync_none_since_ms;
    if (waited < c.cfg.loop_wait_ms) {
      c.d.reason += "; no synchronous standby for " + std::to_string(waited) + " ms: commits wait up to loop_wait_ms before this node acknowledges alone";
      c.wake_in(c.cfg.loop_wait_ms - waited);
      return;
    }
    return record(c, s, true, alone, "no synchronous standby: record this primary as the only complete member");
  }
  c.d.synchronous_standby_names = "";
  c.d.reason += "; no synchronous standby: commits are acknowledged by this node alone, automatic failover waits for it";
}

}  // namespace

void put_sync_state(Ctx& c, const StateRecord& next, const std::string& why) {
  StateRecord with_ids = next;
  record_sync_ids(c, c.view.state->value, with_ids);
  c.mem.sync_write_rev = c.view.state->mod_revision;
  c.mem.sync_write_value = encode(with_ids);
  c.write(why, sync_state_txn(c, c.mem.sync_write_rev, c.mem.sync_write_value));
}

bool sync_write_pending(Ctx& c) {
  if (c.mem.sync_write_rev == 0) return false;
  if (c.obs.etcd_view_fresh && c.view.state && c.view.state->mod_revision != c.mem.sync_write_rev) {
    c.mem.sync_write_rev = 0;   // it landed, or state moved on and its compare can never succeed
    c.mem.sync_write_value.clear();
    return false;
  }
  c.fence("waiting to read back our change of the recorded synchronous set");
  c.set(NodeState::Fenced, c.d.fence_reason);
  if (c.obs.etcd_view_fresh) {
    c.write("change of the recorded synchronous set, again", sync_state_txn(c, c.mem.sync_write_rev, c.mem.sync_write_value));
  }
  c.wake_in(50);
  return true;
}

// A commit acknowledged under `setting` is on the primary and on at least k named standbys, so
// in the worst case on ([primary in S] + max(0, k - |named outside S|)) members of the recorded
// set S. An election needs |S| - q + 1 reports from S and takes the best, so that must be >= q.
bool sync_names_covered(const StateRecord& s, const std::string& setting, const std::string& primary) {
  SyncNames cur;
  if (!parse_sync_names(setting, &cur)) return false;  // a form we did not write: not trusted
  std::vector<std::string> names = cur.names;
  names.erase(std::remove(names.begin(), names.end(), kNoStandby), names.end());
  if (cur.quorum > 0 && names.empty()) return true;    // strict placeholder: nobody can acknowledge
  if (!s.sync_active) return cur.quorum == 0;          // an inactive record protects nothing named
  // By application_name: a name streaming with another identity than the recorded one is outside.
  std::vector<std::string> recorded = recorded_applications(s).names;
  int outside = 0;
  for (const std::string& n : names) outside += contains(recorded, n) ? 0 : 1;
  int holders = (contains(s.sync_standbys, primary) ? 1 : 0) + std::max(0, cur.quorum - outside);
  return holders >= s.sync_quorum;
}


void manage_sync(Ctx& c, const StateRecord& s) {
  // A view older than our own last write may show a record we have since shrunk (or grown):
  // naming standbys from it could name one the record no longer covers. Keep the setting and
  // write nothing until a fresh read (the gate in lead() still checks coverage).
  if (!c.obs.etcd_view_fresh) return;
  if (c.cfg.synchronous_mode == SyncMode::Off) return turn_off(c, s, "synchronous mode off");
  SyncNames cur;
  bool cur_known = parse_sync_names(c.local.synchronous_standby_names, &cur);
  SyncNames want = wanted(c, s);
  if (!want.names.empty()) c.mem.sync_none_since_ms = -1;
  if (want.names.empty()) {
    if (!c.cfg.synchronous_mode_strict) return primary_alone(c, s);
    c.d.synchronous_standby_names = cur_known && cur.quorum > 0 ? format_sync_names(cur) : std::string("ANY 1 (") + kNoStandby + ")";
    c.d.reason += "; strict synchronous mode: commits wait for a synchronous standby";
    return;
  }
  SyncNames rec = recorded_applications(s);
  bool covered = s.sync_active && rec.quorum <= want.quorum &&
                 std::all_of(want.names.begin(), want.names.end(), [&](const std::string& n) { return contains(rec.names, n); });
  if (!covered && !canaries().ssn_before_record) {
    // 1) Grow the record to cover both what is named now and what we want to name. A name
    // that joins is recorded with its member record's identity, which wanted() checked is the
    // standby's (record_sync_ids).
    SyncNames grown{want.quorum, s.sync_active ? s.sync_standbys : std::vector<std::string>{}};
    if (s.sync_active) grown.quorum = std::min(grown.quorum, rec.quorum);
    if (cur_known && cur.quorum > 0) grown.quorum = std::min(grown.quorum, cur.quorum);
    for (const auto& list : {member_names(want.names), member_names(cur.names)}) {
      for (const std::string& n : list) if (!contains(grown.names, n)) grown.names.push_back(n);
    }
    std::sort(grown.names.begin(), grown.names.end());
    grown.names.erase(std::remove(grown.names.begin(), grown.names.end(), kNoStandby), grown.names.end());
    if (grown.quorum < 1) grown.quorum = 1;
    // Turning the record on: this primary holds every commit acknowledged so far (asynchronously
    // too), so it is recorded as well, until the shrink hands completeness to the named set.
    if (!s.sync_active) {
      if (!contains(grown.names, c.me)) grown.names.push_back(c.me);
      grown.quorum = 1;
    }
    std::sort(grown.names.begin(), grown.names.end());
    c.d.synchronous_standby_names = c.local.synchronous_standby_names;
    return record(c, s, true, grown, "record synchronous set before naming it");
  }
  // 2) Name the wanted set.
  c.d.synchronous_standby_names = format_sync_names(want);
  if (!cur_known || cur != want) {
    c.mem.sync_shrink_lsn = 0;
    return;
  }
  // 3) Shrink the record to what is named, once the named set holds every commit acknowledged
  // before the change (all at or below the flush position when the change was first seen).
  if (rec == want) return;
  if (c.mem.sync_shrink_lsn == 0) c.mem.sync_shrink_lsn = c.local.flush_lsn;
  int caught_up = 0;
  for (const std::string& n : want.names) caught_up += standby_flush(c, n) >= c.mem.sync_shrink_lsn ? 1 : 0;
  if (caught_up >= want.quorum) {
    SyncNames shrunk{want.quorum, member_names(want.names)};   // each keeps its recorded identity
    record(c, s, true, shrunk, "shrink recorded synchronous set to the named one");
    c.mem.sync_shrink_lsn = 0;
  }
}

}  // namespace pg_ha::core::detail
