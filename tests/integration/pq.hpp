// A minimal libpq wrapper for the integration tests: one query per connection, rows as text.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace pg_ha::test {

using Rows = std::vector<std::vector<std::string>>;

// Connects with `conninfo` (connect_timeout should be set), runs `sql`, returns the rows of the
// last statement. Connection and SQL errors are values, with the server's message.
Result<Rows> pq_query(const std::string& conninfo, const std::string& sql);

}  // namespace pg_ha::test
