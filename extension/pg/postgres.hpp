// The one way pg_ha's glue includes postgres.h. Include this (and any header that includes it)
// AFTER every C++ standard and third-party header: PostgreSQL's port.h redefines snprintf,
// printf, qsort and friends as macros, which breaks standard headers included later.
#pragma once

extern "C" {
#include "postgres.h"  // base types, elog/ereport, palloc; first of all PostgreSQL headers
#include "fmgr.h"      // Datum, FunctionCallInfo, PG_FUNCTION_INFO_V1
}
