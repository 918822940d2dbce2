// Test-only SQL functions, disabled unless pg_ha.enable_test_functions is on (superuser only):
// - pg_ha._test_raise(kind): raises a failure of the named kind from inside C++ so the regression
//   suite can prove the boundary (an ERROR, the server keeps running);
// - pg_ha._test_hold_commits(hold): an injection point for the fence's COMMIT check (pg/fence.cpp).
#include <new>
#include <stdexcept>
#include <string>

#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {
namespace {

// An object with a destructor alive while the error travels: it must be destroyed normally.
struct Witness {
  std::string text = std::string(64, 'x');
};

void require_test_functions() {
  if (!pg::test_functions_enabled())
    throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "pg_ha: test functions are disabled", "",
                       "Set pg_ha.enable_test_functions = on (superuser only).");
}

Datum test_raise(FunctionCallInfo fcinfo) {
  require_test_functions();
  if (PG_ARGISNULL(0)) throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "pg_ha: kind must not be null");
  std::string kind = pg::text_arg(PG_GETARG_DATUM(0));
  Witness witness;
  if (kind == "runtime_error") throw std::runtime_error("forced std::runtime_error");
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "sql_error") throw pg::SqlError(ERRCODE_DATA_EXCEPTION, "pg_ha: forced SQL error");
  if (kind == "pg_error") pg::jsonb_datum("{not json");   // a PostgreSQL ERROR caught by a guard
  if (kind == "unknown") throw 42;
  if (kind == "none") PG_RETURN_VOID();
  throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: unknown test error kind \"" + kind + "\"", "",
                     "Use runtime_error, bad_alloc, sql_error, pg_error, unknown or none.");
}

// While on, every writing commit of a session that has pg_ha.enable_test_functions on waits after
// passing the pre-commit fence check, until this is called with false. Returns how many commits
// are held at this moment (call it again to wait for one to arrive).
Datum test_hold_commits(FunctionCallInfo fcinfo) {
  require_test_functions();
  if (PG_ARGISNULL(0)) throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "pg_ha: hold must not be null");
  pg::shmem::set_commit_hold(PG_GETARG_BOOL(0));
  PG_RETURN_INT32(pg::shmem::held_commits());
}

}  // namespace
}  // namespace pg_ha::sql_api

PG_HA_SQL_FUNCTION(pg_ha_test_raise, pg_ha::sql_api::test_raise)
PG_HA_SQL_FUNCTION(pg_ha_test_hold_commits, pg_ha::sql_api::test_hold_commits)
