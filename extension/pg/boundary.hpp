// The C++ / PostgreSQL error boundary (DESIGN.md §3).
//
// Direction PostgreSQL -> C++: every entry point PostgreSQL calls (SQL function, hook, worker
// main) runs its C++ body through run_sql_function()/run_void(). They catch every exception,
// copy its text into plain buffers, let all C++ scopes close, and only then ereport(ERROR).
//
// Direction C++ -> PostgreSQL: a PostgreSQL function that may ereport(ERROR) is called from C++
// only through pg/guarded.hpp, which turns the longjmp into a thrown PgError.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "pg/postgres.hpp"

namespace pg_ha::pg {

// An error for the SQL user raised from C++, with its SQLSTATE (an ERRCODE_* value). The
// message follows PostgreSQL style: lowercase, no trailing period.
class SqlError : public std::runtime_error {
 public:
  SqlError(int sqlstate, const std::string& message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message), sqlstate_(sqlstate), detail_(std::move(detail)), hint_(std::move(hint)) {}
  int sqlstate() const { return sqlstate_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }

 private:
  int sqlstate_;
  std::string detail_;
  std::string hint_;
};

// A PostgreSQL ERROR caught by a guard (pg/guarded.hpp), carried through C++ as an exception.
// The boundary re-raises it with the original SQLSTATE and text.
class PgError : public SqlError {
 public:
  using SqlError::SqlError;
};

// Runs body(fcinfo) for a V1 SQL function; any exception becomes ereport(ERROR) after the C++
// frames are gone. `where` names the function in internal-error messages.
Datum run_sql_function(const char* where, Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

// Same for a body without a result (worker main, hooks that may fail).
void run_void(const char* where, void (*body)());

}  // namespace pg_ha::pg

// Defines the exported V1 function `sql_name` whose C++ body is `body(FunctionCallInfo)`.
#define PG_HA_SQL_FUNCTION(sql_name, body)                                       \
  extern "C" {                                                                   \
  PG_FUNCTION_INFO_V1(sql_name);                                                 \
  Datum sql_name(PG_FUNCTION_ARGS) {                                             \
    return ::pg_ha::pg::run_sql_function(#sql_name, body, fcinfo);               \
  }                                                                              \
  }
