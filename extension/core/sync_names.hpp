// synchronous_standby_names in the one form pg_ha writes: `ANY k ("a", "b")`, or "" for none.
// FIRST k with exactly k names is equivalent and also understood when read back.
#pragma once

#include <string>
#include <vector>

namespace pg_ha::core {

struct SyncNames {
  int quorum = 0;                    // 0 = asynchronous
  std::vector<std::string> names;    // sorted
  bool operator==(const SyncNames& o) const { return quorum == o.quorum && names == o.names; }
  bool operator!=(const SyncNames& o) const { return !(*this == o); }
};

std::string format_sync_names(const SyncNames& s);
// Returns false for forms pg_ha does not write (then the core rewrites the setting).
bool parse_sync_names(const std::string& text, SyncNames* out);

}  // namespace pg_ha::core
