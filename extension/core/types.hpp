// Basic vocabulary of the HA core. Times are milliseconds on the caller's monotonic clock; the
// core never reads a clock itself.
#pragma once

#include <cstdint>
#include <string>

namespace pg_ha::core {

using Lsn = uint64_t;
using TimeMs = int64_t;
constexpr TimeMs kNever = INT64_MAX;

std::string lsn_to_string(Lsn lsn);          // "0/3000148", as PostgreSQL prints it
bool lsn_from_string(const std::string& text, Lsn* out);

enum class Role { Unknown, Primary, Replica };
const char* role_name(Role role);
Role role_from_name(const std::string& name);

struct Tags {
  bool nofailover = false;     // never promoted automatically or by failover()
  int priority = 100;          // 0 = never promoted; higher wins on equal (timeline, LSN)
  bool nosync = false;         // never chosen as a synchronous standby
  bool noloadbalance = false;  // health checks report it as not serving reads
  bool can_promote() const { return !nofailover && priority > 0; }
};

}  // namespace pg_ha::core
