#include <string>

#include "pg/fence.hpp"
#include "pg/shmem.hpp"
#include "sql_api/live_state.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "access/xlog.h"                // RecoveryInProgress
#include "replication/walreceiver.h"  // WalRcv state
}

namespace pg_ha::sql_api {

LiveState read_live_state() {
  LiveState s;
  s.role = RecoveryInProgress() ? "replica" : "primary";
  char reason[pg::shmem::kFenceReasonCapacity + 64];
  s.fenced = pg::writes_refused(reason, sizeof reason);
  if (s.fenced) s.fence_reason = reason;
  if (s.role == "replica" && WalRcv) {
    SpinLockAcquire(&WalRcv->mutex);
    WalRcvState state = WalRcv->walRcvState;
    SpinLockRelease(&WalRcv->mutex);
    s.receiver_state = state == WALRCV_STREAMING ? "streaming" : state == WALRCV_STOPPED ? "stopped" : "connecting";
  }
  return s;
}

}  // namespace pg_ha::sql_api
