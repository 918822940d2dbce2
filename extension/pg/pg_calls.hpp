// Every PostgreSQL call pg_ha's C++ code makes that can ereport(ERROR), each one line behind
// guard_call(): a failure arrives as a PgError exception, never as a longjmp through C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/guarded.hpp"

extern "C" {
#include "access/tupdesc.h"  // TupleDesc
#include "nodes/execnodes.h" // ReturnSetInfo
#include "storage/lwlock.h"  // LWLock
}

namespace pg_ha::pg {

Datum text_datum(const std::string& value);           // text
Datum jsonb_datum(const std::string& json);           // jsonb (parse errors raise)
std::string text_arg(Datum value);                    // text argument -> std::string
std::string jsonb_text(Datum value);                  // jsonb argument -> its text form
Datum text_array_datum(const std::vector<std::string>& values);   // text[]

// Composite result of a function with OUT parameters, blessed for heap_form_tuple.
TupleDesc result_tupdesc(FunctionCallInfo fcinfo);
Datum form_tuple(TupleDesc desc, Datum* values, bool* nulls);
// Set-returning function in materialize mode: returns the ReturnSetInfo to put rows into.
ReturnSetInfo* init_materialized(FunctionCallInfo fcinfo);
void put_row(ReturnSetInfo* rsinfo, Datum* values, bool* nulls);

// Role checks (need a transaction: SQL functions and the auth hook only).
bool current_user_has_privs_of(const std::string& role_name);   // false if the role is missing
bool current_user_is_superuser();

void reload_config_file();                            // ProcessConfigFile(PGC_SIGHUP)
void lwlock_acquire(LWLock* lock, bool exclusive);
void lwlock_release(LWLock* lock);

}  // namespace pg_ha::pg

namespace pg_ha::pg {

// Server log lines from C++ (elog itself may fail on out-of-memory, hence guarded).
void log_info(const std::string& message);
void log_warning(const std::string& message);

}  // namespace pg_ha::pg
