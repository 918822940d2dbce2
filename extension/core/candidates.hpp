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
