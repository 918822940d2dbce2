// Synchronous replication on the primary (I3). The recorded set in `state` always covers
// synchronous_standby_names: a standby is recorded before it is named, and un-recorded only after
// it is no longer named and the remaining set holds everything acknowledged before the change.
// The recorded quorum never exceeds the named one.
#include <algorithm>

#include "core/step_context.hpp"
#include "core/sync_names.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

constexpr const char* kNoStandby = "pg_ha_no_sync_standby";  // strict mode with nobody: commits wait

Lsn standby_flush(const Ctx& c, const std::string& name) {
  for (const StandbyConnection& s : c.local.standbys) {
    if (s.name == name) return s.flush_lsn;
  }
  return 0;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The set we want: healthy streaming standbys that may be synchronous, current members first
// (a stable set avoids churn), then by position.
SyncNames wanted(const Ctx& c, const StateRecord& s) {
  std::vector<const StandbyConnection*> healthy;
  for (const StandbyConnection& sb : c.local.standbys) {
    const MemberRecord* m = c.member(sb.name);
    if (sb.streaming && m && !m->tags.nosync && m->role == Role::Replica) healthy.push_back(&sb);
  }
  std::sort(healthy.begin(), healthy.end(), [&](const StandbyConnection* a, const StandbyConnection* b) {
    bool ka = contains(s.sync_standbys, a->name), kb = contains(s.sync_standbys, b->name);
    if (ka != kb) return ka;
    if (a->flush_lsn != b->flush_lsn) return a->flush_lsn > b->flush_lsn;
    return a->name < b->name;
  });
  SyncNames w;
  size_t n = static_cast<size_t>(c.cfg.synchronous_node_count);
  for (const StandbyConnection* sb : healthy) {
    if (c.cfg.synchronous_mode == SyncMode::On && w.names.size() >= n) break;
    w.names.push_back(sb->name);
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
  kv::Txn t;
  t.compare = {kv::Compare::mod_revision_is(c.keys.state(), c.view.state->mod_revision)};
  t.success = {kv::RequestOp::put(c.keys.state(), encode(next))};
  c.write(why, std::move(t));
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

}  // namespace

bool sync_names_covered(const StateRecord& s, const std::string& setting, const std::string& primary) {
  SyncNames cur;
  if (!parse_sync_names(setting, &cur)) return false;  // a form we did not write: not trusted
  if (cur.quorum == 0) {
    // Commits are then on the primary alone: fine when the record says so, or is inactive.
    if (!s.sync_active) return true;
    return s.sync_quorum >= 1 && s.sync_standbys.size() == 1 && s.sync_standbys[0] == primary;
  }
  std::vector<std::string> names = cur.names;
  names.erase(std::remove(names.begin(), names.end(), kNoStandby), names.end());
  if (names.empty()) return true;                       // strict placeholder: nobody can acknowledge
  if (!s.sync_active || s.sync_quorum > cur.quorum) return false;
  return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return contains(s.sync_standbys, n); });
}

void manage_sync(Ctx& c, const StateRecord& s) {
  if (c.cfg.synchronous_mode == SyncMode::Off) return turn_off(c, s, "synchronous mode off");
  SyncNames cur;
  bool cur_known = parse_sync_names(c.local.synchronous_standby_names, &cur);
  SyncNames want = wanted(c, s);
  if (want.names.empty()) {
    if (!c.cfg.synchronous_mode_strict) return turn_off(c, s, "no synchronous standby available: asynchronous");
    c.d.synchronous_standby_names = cur_known && cur.quorum > 0 ? format_sync_names(cur) : std::string("ANY 1 (") + kNoStandby + ")";
    c.d.reason += "; strict synchronous mode: commits wait for a synchronous standby";
    return;
  }
  SyncNames rec{s.sync_active ? s.sync_quorum : 0, s.sync_active ? s.sync_standbys : std::vector<std::string>{}};
  std::sort(rec.names.begin(), rec.names.end());
  bool covered = s.sync_active && rec.quorum <= want.quorum &&
                 std::all_of(want.names.begin(), want.names.end(), [&](const std::string& n) { return contains(rec.names, n); });
#ifndef PG_HA_CANARY_SSN_BEFORE_RECORD
  if (!covered) {
    // 1) Grow the record to cover both what is named now and what we want to name.
    SyncNames grown = rec;
    grown.quorum = want.quorum;
    if (s.sync_active) grown.quorum = std::min(grown.quorum, rec.quorum);
    if (cur_known && cur.quorum > 0) grown.quorum = std::min(grown.quorum, cur.quorum);
    for (const auto* list : {&want.names, &cur.names}) {
      for (const std::string& n : *list) if (!contains(grown.names, n)) grown.names.push_back(n);
    }
    std::sort(grown.names.begin(), grown.names.end());
    grown.names.erase(std::remove(grown.names.begin(), grown.names.end(), kNoStandby), grown.names.end());
    if (grown.quorum < 1) grown.quorum = 1;
    c.d.synchronous_standby_names = c.local.synchronous_standby_names;
    if (!s.sync_active) {
      // Until now commits were acknowledged asynchronously; once the record is active they must
      // be covered by it, so none may be acknowledged between this write and the new setting.
      c.fence("turning synchronous replication on");
      c.wake_in(50);
    }
    return record(c, s, true, grown, "record synchronous set before naming it");
  }
#else
  (void)covered;
#endif
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
    record(c, s, true, want, "shrink recorded synchronous set to the named one");
    c.mem.sync_shrink_lsn = 0;
  }
}

}  // namespace pg_ha::core::detail
