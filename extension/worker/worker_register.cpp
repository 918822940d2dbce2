#include <cstring>

#include "worker/worker_register.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "postmaster/bgworker.h"  // RegisterBackgroundWorker
}

namespace pg_ha::worker {

constexpr int kRestartAfterSeconds = 2;

void register_worker() {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof worker);
  // Shared memory only, no database connection: the worker takes no client slot and keeps
  // working when max_connections is exhausted (DESIGN.md §3.5).
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
  // PostmasterStart: run on a standby that is still catching up, before consistency.
  worker.bgw_start_time = BgWorkerStart_PostmasterStart;
  worker.bgw_restart_time = kRestartAfterSeconds;
  strlcpy(worker.bgw_library_name, "pg_ha", sizeof worker.bgw_library_name);
  strlcpy(worker.bgw_function_name, "pg_ha_worker_main", sizeof worker.bgw_function_name);
  strlcpy(worker.bgw_name, "pg_ha worker", sizeof worker.bgw_name);
  strlcpy(worker.bgw_type, "pg_ha worker", sizeof worker.bgw_type);
  RegisterBackgroundWorker(&worker);
}

}  // namespace pg_ha::worker
