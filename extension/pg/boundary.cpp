// The catch-everything side of the boundary: exceptions are copied into fixed buffers inside a
// noexcept helper, and ereport(ERROR) runs only after that helper has returned, so the longjmp
// never crosses a frame that owns C++ objects.
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "pg/boundary.hpp"  // last: pulls in postgres.h

extern "C" {
#include "miscadmin.h"  // CHECK_FOR_INTERRUPTS
}

namespace pg_ha::pg {
namespace {

// Plain data only: it lives in the frame that calls ereport().
struct CaughtError {
  int sqlstate;
  char message[1024];
  char detail[1024];
  char hint[512];
};

void copy_text(char* dst, size_t size, const char* src) {
  strlcpy(dst, src ? src : "", size);
}

void fill(CaughtError* out, int sqlstate, const char* message, const char* detail, const char* hint) {
  out->sqlstate = sqlstate;
  copy_text(out->message, sizeof out->message, message);
  copy_text(out->detail, sizeof out->detail, detail);
  copy_text(out->hint, sizeof out->hint, hint);
}

// Runs fn; returns true if it threw, with the error copied into *out. Never lets anything escape.
template <class Fn>
bool threw(const char* where, Fn&& fn, CaughtError* out) noexcept {
  try {
    fn();
    return false;
  } catch (const SqlError& e) {
    fill(out, e.sqlstate(), e.what(), e.detail().c_str(), e.hint().c_str());
  } catch (const std::bad_alloc&) {
    fill(out, ERRCODE_OUT_OF_MEMORY, "pg_ha: out of memory", "in ", nullptr);
    strlcat(out->detail, where, sizeof out->detail);
  } catch (const std::exception& e) {
    fill(out, ERRCODE_INTERNAL_ERROR, "pg_ha: internal error", e.what(), nullptr);
    strlcat(out->detail, " (in ", sizeof out->detail);
    strlcat(out->detail, where, sizeof out->detail);
    strlcat(out->detail, ")", sizeof out->detail);
  } catch (...) {
    fill(out, ERRCODE_INTERNAL_ERROR, "pg_ha: internal error", "unknown exception", nullptr);
  }
  return true;
}

[[noreturn]] void raise(const CaughtError& e) {
  // A C++ wait stopped because of a cancel or terminate request: now that no C++ frame is left,
  // let PostgreSQL report it in its own words ("canceling statement due to statement timeout").
  CHECK_FOR_INTERRUPTS();
  ereport(ERROR, (errcode(e.sqlstate), errmsg_internal("%s", e.message),
                  e.detail[0] ? errdetail_internal("%s", e.detail) : 0,
                  e.hint[0] ? errhint("%s", e.hint) : 0));
  pg_unreachable();
}

}  // namespace

Datum run_sql_function(const char* where, Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
  CaughtError error;
  Datum result = 0;
  if (!threw(where, [&] { result = body(fcinfo); }, &error)) return result;
  raise(error);
}

void run_void(const char* where, void (*body)()) {
  CaughtError error;
  if (!threw(where, body, &error)) return;
  raise(error);
}

}  // namespace pg_ha::pg
