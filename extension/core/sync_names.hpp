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

// The application_name a standby streams under: its member name and the first 8 hex digits of
// its identity, "n2@3f9a1c07" (just the name for a node without an identity). The recorded
// synchronous set names members by name and identity, PostgreSQL counts acknowledgements by
// application_name: carrying the identity in it means a second node under a recorded standby's
// name never acknowledges for it (FINDINGS.md F16).
constexpr size_t kIdentityPrefix = 8;
constexpr size_t kMaxNodeName = 63 - 1 - kIdentityPrefix;   // NAMEDATALEN - 1 bytes in all
std::string standby_application_name(const std::string& name, const std::string& member_id);

struct StandbyName {
  std::string name;
  std::string identity;   // the identity's prefix, "" = none
};
StandbyName parse_standby_application_name(const std::string& application_name);
// Whether an identity prefix taken from an application_name is `member_id`'s.
bool same_identity(const std::string& prefix, const std::string& member_id);

}  // namespace pg_ha::core
