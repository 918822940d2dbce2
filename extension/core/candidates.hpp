// Who may become primary, and who is best (I3, I4, I5). Shared by the election, switchover,
// failover and the SQL functions that explain a refusal.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/schema.hpp"

namespace pg_ha::core {

struct Candidate {
  std::string name;
  uint32_t timeline = 0;
  Lsn lsn = 0;
  Tags tags;
};

// I5 order: higher (timeline, LSN) first, then higher priority, then the smaller name.
bool better_candidate(const Candidate& a, const Candidate& b);

// Why `c` may not be promoted automatically for the cluster in `view`; nullopt = eligible.
// Covers tags (I5), the lag bound against the last published optime (I4) and the recorded
// synchronous set (I3).
std::optional<std::string> automatic_ineligibility(const ClusterConfig& config, const EtcdView& view,
                                                    const Candidate& c);

// I4's bound on two positions: why a member at `at` may not take over from a primary at
// `primary_at` (described as `primary_what` in the message); nullopt = within the bound.
std::optional<std::string> lag_refusal(const ClusterConfig& config, const std::string& name, Lsn at, Lsn primary_at,
                                       const std::string& primary_what);

// automatic_ineligibility for a planned move while the primary runs (switchover), from a report
// written at `report_revision`. The report is held against the optime only when it was written
// after it: an older report against a newer optime measures what the primary wrote between two
// heartbeats, not lag (a caught-up replica of a busy primary would be refused). The primary then
// waits for the candidate to catch up, for at most switchover_timeout_ms (rules_switchover.cpp).
std::optional<std::string> planned_ineligibility(const ClusterConfig& config, const EtcdView& view, const Candidate& c,
                                                 int64_t report_revision);

struct ElectionOutcome {
  std::optional<std::string> winner;  // set when the election is decided
  std::string reason;                 // why this winner, or what we are waiting for
};

// Decides the election for `term` from the reports in the view. Before `wait_over` it decides
// only once every live member that could win has reported.
ElectionOutcome decide_election(const ClusterConfig& config, const EtcdView& view, int64_t term, bool wait_over);

// I3 for a candidate chosen by name (an unforced manual failover) with the recorded set active:
// why it may not take leadership yet (too few reports from the recorded set, or a recorded member
// reported a position ahead of it); nullopt when it holds every acknowledged commit.
std::optional<std::string> sync_set_objection(const EtcdView& view, int64_t term, const Candidate& c);

// Members that are expected to report in an election: live replicas that could be promoted.
std::vector<std::string> expected_reporters(const EtcdView& view);

}  // namespace pg_ha::core
