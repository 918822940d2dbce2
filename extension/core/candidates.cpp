#include "core/candidates.hpp"

#include <algorithm>

#include "core/canaries.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

bool better_candidate(const Candidate& a, const Candidate& b) {
  if (a.timeline != b.timeline) return a.timeline > b.timeline;
  if (a.lsn != b.lsn) return a.lsn > b.lsn;
  if (a.tags.priority != b.tags.priority) return a.tags.priority > b.tags.priority;
  return a.name < b.name;
}

static bool in_sync_set(const StateRecord& s, const std::string& name) {
  return std::find(s.sync_standbys.begin(), s.sync_standbys.end(), name) != s.sync_standbys.end();
}

// F12: a report speaks for a recorded name only when it comes from the identity recorded with that
// name (no identity recorded: by name, as records written before identities).
static bool speaks_for(const StateRecord& s, const std::string& name, const ElectionReport& r) {
  auto id = s.sync_ids.find(name);
  return id == s.sync_ids.end() || id->second.empty() || id->second == r.member_id;
}

std::optional<std::string> lag_refusal(const ClusterConfig& config, const std::string& name, Lsn at, Lsn primary_at,
                                       const std::string& primary_what) {
  if (canaries().no_lag_check || at + static_cast<Lsn>(config.maximum_lag_on_failover) >= primary_at) return std::nullopt;
  return name + " is " + std::to_string(primary_at - at) + " bytes behind " + primary_what +
         ", more than maximum_lag_on_failover (" + std::to_string(config.maximum_lag_on_failover) + ")";
}

namespace {

std::optional<std::string> ineligibility(const ClusterConfig& config, const EtcdView& view, const Candidate& c,
                                         bool compare_optime) {
  if (c.tags.nofailover) return c.name + " is tagged nofailover";
  if (c.tags.priority <= 0) return c.name + " has priority 0";
  if (compare_optime && view.optime) {
    if (auto why = lag_refusal(config, c.name, c.lsn, view.optime->value.lsn, "the last known primary position")) return why;
  }
  if (!canaries().ignore_sync_set && view.state && view.state->value.sync_active && !in_sync_set(view.state->value, c.name)) {
    return c.name + " is not in the recorded synchronous set: it may miss acknowledged commits";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> automatic_ineligibility(const ClusterConfig& config, const EtcdView& view,
                                                    const Candidate& c) {
  return ineligibility(config, view, c, true);
}

std::optional<std::string> planned_ineligibility(const ClusterConfig& config, const EtcdView& view, const Candidate& c,
                                                 int64_t report_revision) {
  return ineligibility(config, view, c, view.optime && report_revision > view.optime->mod_revision);
}

std::vector<std::string> expected_reporters(const EtcdView& view) {
  std::vector<std::string> out;
  for (const auto& [name, m] : view.members) {
    if (m.value.role == Role::Replica && m.value.postgres_running && m.value.tags.can_promote()) out.push_back(name);
  }
  return out;
}

// I3: with a quorum of k out of n recorded standbys, any n - k + 1 of them include one that has
// every acknowledged commit; the best of those reports is then safe to promote.
static std::optional<std::string> sync_reports_missing(const EtcdView& view,
                                                        const std::map<std::string, Versioned<ElectionReport>>& reports) {
  if (canaries().ignore_sync_set || !view.state || !view.state->value.sync_active) return std::nullopt;
  const StateRecord& s = view.state->value;
  int needed = static_cast<int>(s.sync_standbys.size()) - s.sync_quorum + 1;
  int have = 0;
  for (const std::string& n : s.sync_standbys) {
    auto r = reports.find(n);
    have += r != reports.end() && speaks_for(s, n, r->second.value) ? 1 : 0;
  }
  if (have >= needed) return std::nullopt;
  return "waiting for " + std::to_string(needed - have) + " more report(s) from the synchronous set";
}

// The reports from the recorded set include one that holds every acknowledged commit, so the best
// of them does; a winner behind it (that member being nofailover, say) could lose commits (I3).
static std::optional<std::string> sync_member_ahead_of(const EtcdView& view,
                                                       const std::map<std::string, Versioned<ElectionReport>>& reports,
                                                       const Candidate& winner) {
  if (canaries().ignore_sync_set || !view.state || !view.state->value.sync_active) return std::nullopt;
  for (const std::string& n : view.state->value.sync_standbys) {
    auto r = reports.find(n);
    if (r == reports.end() || !speaks_for(view.state->value, n, r->second.value)) continue;
    const ElectionReport& e = r->second.value;
    if (e.timeline > winner.timeline || (e.timeline == winner.timeline && e.lsn > winner.lsn)) {
      return n + " is at " + std::to_string(e.timeline) + "/" + lsn_to_string(e.lsn) + ", ahead of " + winner.name;
    }
  }
  return std::nullopt;
}

using Reports = std::map<std::string, Versioned<ElectionReport>>;

// The reports for `term` (none yet: an empty map).
static const Reports& reports_for(const EtcdView& view, int64_t term) {
  static const Reports kNone;
  auto it = view.reports.find(term);
  return it == view.reports.end() ? kNone : it->second;
}

std::optional<std::string> sync_set_objection(const EtcdView& view, int64_t term, const Candidate& c) {
  const Reports& reports = reports_for(view, term);
  if (auto missing = sync_reports_missing(view, reports)) return missing;
  return sync_member_ahead_of(view, reports, c);
}

ElectionOutcome decide_election(const ClusterConfig& config, const EtcdView& view, int64_t term, bool wait_over) {
  const Reports& reports = reports_for(view, term);
  ElectionOutcome out;
  if (!wait_over) {
    for (const std::string& name : expected_reporters(view)) {
      if (!reports.count(name)) {
        out.reason = "waiting for " + name + " to report its position";
        return out;
      }
    }
  }
  if (auto missing = sync_reports_missing(view, reports)) {
    out.reason = *missing;
    return out;
  }
  std::optional<Candidate> best;
  std::string refusals;
  for (const auto& [name, r] : reports) {
    Candidate c{name, r.value.timeline, r.value.lsn, r.value.tags};
    if (!canaries().ignore_sync_set && view.state && view.state->value.sync_active &&
        !speaks_for(view.state->value, name, r.value)) {
      refusals += (refusals.empty() ? "" : "; ") + name + " reports as another identity than the one recorded in the synchronous set";
      continue;
    }
    if (auto why = automatic_ineligibility(config, view, c)) {
      refusals += (refusals.empty() ? "" : "; ") + *why;
      continue;
    }
    bool wins = !best || (canaries().worst_candidate ? better_candidate(*best, c) : better_candidate(c, *best));
    if (wins) best = c;
  }
  if (!best) {
    out.reason = reports.empty() ? "no member has reported" : "no eligible candidate: " + refusals;
    return out;
  }
  if (auto ahead = sync_member_ahead_of(view, reports, *best)) {
    out.reason = "no eligible candidate holds every acknowledged commit: " + *ahead;
    return out;
  }
  out.winner = best->name;
  out.reason = best->name + " has the best position " + std::to_string(best->timeline) + "/" +
               lsn_to_string(best->lsn) + " among " + std::to_string(reports.size()) + " report(s)";
  return out;
}

}  // namespace pg_ha::core
