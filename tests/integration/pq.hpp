// A minimal libpq wrapper for the integration tests: rows as text.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace pg_ha::test {

using Rows = std::vector<std::vector<std::string>>;

// Connects with `conninfo` (connect_timeout should be set), runs `sql` on that fresh connection,
// returns the rows of the last statement. Connection and SQL errors are values, with the server's
// message.
Result<Rows> pq_query(const std::string& conninfo, const std::string& sql);

// The same for read-only polls asked many times a second (is a node writable?): the connection is
// kept, per thread and conninfo, and used again. A new connection costs PostgreSQL a backend fork
// (~30 ms of CPU on the 2-core test machines); at one poll per node every 50-100 ms, fresh
// connections kept about a core busy in every test with a writer. The answer must not wait on a
// node that stopped or was cut off: after `timeout_ms` the connection is dropped and the poll is an
// error, as a refused connection was. A kept connection that broke (the server restarted) is
// replaced once, so a poll still means "a new connection now would get this answer".
Result<Rows> pq_poll(const std::string& conninfo, const std::string& sql, int timeout_ms = 2000);

}  // namespace pg_ha::test
