#include "pg/interrupts.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"  // InterruptPending, QueryCancelPending, ProcDiePending
}

namespace pg_ha::pg {

bool backend_interrupt_pending() {
  return InterruptPending && (QueryCancelPending || ProcDiePending);
}

}  // namespace pg_ha::pg
