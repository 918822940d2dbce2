// Calling PostgreSQL from C++ (DESIGN.md §3.2): guard_call() runs one PostgreSQL function under
// its own PG_TRY. A longjmp out of it is caught in this plain frame, the error is copied and
// flushed, and a PgError is thrown from here, so C++ destructors further up run normally.
//
// The transaction is NOT rolled back by the guard: the PgError must travel up to a boundary
// (which re-raises ERROR and lets PostgreSQL clean up) or end the worker. Never swallow it.
#pragma once

#include <type_traits>

#include "pg/boundary.hpp"

extern "C" {
#include "utils/memutils.h"  // MemoryContext switching around CopyErrorData
}

namespace pg_ha::pg {

// Copies the current PostgreSQL error (we are in PG_CATCH) into *out and flushes it.
void capture_pg_error(MemoryContext caller_context, int* sqlstate, char* message, size_t message_size,
                      char* detail, size_t detail_size);
[[noreturn]] void throw_pg_error(int sqlstate, const char* message, const char* detail);

// Calls fn(args...). Arguments must be plain data (pointers, Datums, numbers): nothing in this
// frame may need a destructor when PostgreSQL longjmps into it.
template <class R, class... P, class... A>
R guard_call(R (*fn)(P...), A... args) {
  static_assert((std::is_trivially_copyable_v<A> && ...), "guard_call takes plain data only");
  MemoryContext caller_context = CurrentMemoryContext;
  volatile bool failed = false;
  int sqlstate = 0;
  char message[1024];
  char detail[1024];
  if constexpr (std::is_void_v<R>) {
    PG_TRY();
    { fn(args...); }
    PG_CATCH();
    {
      failed = true;
      capture_pg_error(caller_context, &sqlstate, message, sizeof message, detail, sizeof detail);
    }
    PG_END_TRY();
    if (failed) throw_pg_error(sqlstate, message, detail);
  } else {
    static_assert(std::is_trivially_copyable_v<R>, "guard_call returns plain data only");
    volatile R value{};   // assigned after sigsetjmp, read after PG_END_TRY
    PG_TRY();
    { value = fn(args...); }
    PG_CATCH();
    {
      failed = true;
      capture_pg_error(caller_context, &sqlstate, message, sizeof message, detail, sizeof detail);
    }
    PG_END_TRY();
    if (failed) throw_pg_error(sqlstate, message, detail);
    return value;
  }
}

}  // namespace pg_ha::pg
