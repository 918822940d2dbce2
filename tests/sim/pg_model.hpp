// A model of one node's PostgreSQL: running or not, primary or in recovery, and its WAL as a
// lineage (ancestor timelines with their switch points, the current timeline, the flush LSN).
// Timeline ids are unique across the cluster (max seen + 1), so lineages compare by id.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace pg_ha::sim {

using core::Lsn;

struct Lineage {
  std::vector<std::pair<uint32_t, Lsn>> ancestors;  // (timeline, LSN where it ended), oldest first
  uint32_t timeline = 1;
  Lsn flush = 0;

  // The WAL position (timeline, lsn) is part of this lineage's history.
  bool contains(uint32_t tl, Lsn lsn) const;
  // Last LSN this lineage holds on `tl` (0 and false when the timeline is not in it).
  bool end_on(uint32_t tl, Lsn* end) const;
  // This lineage cut back to `lsn` (which must lie on it): what pg_rewind leaves behind.
  Lineage truncated(Lsn lsn) const;
  std::string describe() const;
};

// The point where two lineages diverge: the last LSN both contain.
Lsn fork_point(const Lineage& a, const Lineage& b);

struct PgModel {
  bool running = false;
  bool in_recovery = true;
  bool promoting = false;
  uint64_t incarnation = 0;     // bumps at every start: callbacks of an older life are dropped
  Lineage wal;
  std::string upstream;         // recovery: the member primary_conninfo names
  // ... and its host: primary_conninfo holds an address, not a name, so a second node that takes
  // the name later is not streamed from ("" = whoever the member record under the name says).
  std::string upstream_host;
  bool streaming = false;
  int streaming_from = -1;      // the machine it streams from (names may be duplicated)
  std::string synchronous_standby_names;
  uint64_t system_identifier = 0;
};

// synchronous_standby_names as PostgreSQL reads it: "", "ANY k (a, b)", "FIRST k (a, b)",
// "k (a, b)" and "a, b" (FIRST 1). Names may be double-quoted; "*" matches any standby.
struct SyncRule {
  bool sync = false;
  bool any = false;     // quorum (ANY) rather than priority (FIRST)
  int k = 0;
  std::vector<std::string> names;
};
SyncRule parse_ssn(const std::string& text);

struct StandbyFlush {
  std::string name;
  Lsn flush = 0;
};
// Whether a commit at `lsn` is acknowledged under `rule` given the streaming standbys.
bool sync_satisfied(const SyncRule& rule, const std::vector<StandbyFlush>& standbys, Lsn lsn);

}  // namespace pg_ha::sim
