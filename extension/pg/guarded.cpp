#include <cstring>

#include "pg/guarded.hpp"  // last: pulls in postgres.h

namespace pg_ha::pg {

void capture_pg_error(MemoryContext caller_context, int* sqlstate, char* message, size_t message_size,
                      char* detail, size_t detail_size) {
  // CopyErrorData must not run in ErrorContext; go back to where the caller was.
  MemoryContextSwitchTo(caller_context);
  ErrorData* data = CopyErrorData();
  FlushErrorState();
  *sqlstate = data->sqlerrcode;
  strlcpy(message, data->message ? data->message : "unknown error", message_size);
  strlcpy(detail, data->detail ? data->detail : "", detail_size);
  FreeErrorData(data);
}

void throw_pg_error(int sqlstate, const char* message, const char* detail) {
  throw PgError(sqlstate, message, detail);
}

}  // namespace pg_ha::pg
