// The OS users the fault tests run their nodes as (pgha_n1, pgha_n2, ...): created once, as system
// users without a home or a login shell, and left in place (creating them again is a no-op).
#pragma once

#include <string>
#include <vector>

namespace pg_ha::test {

// Creates the missing users among `names`; throws with useradd's words when one cannot be made.
void ensure_os_users(const std::vector<std::string>& names);

}  // namespace pg_ha::test
