// The module's entry: PG_MODULE_MAGIC and _PG_init. pg_ha must be in shared_preload_libraries:
// its shared memory, fence hooks and worker exist only if they are set up in the postmaster.
#include "pg/fence.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/worker_register.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"  // process_shared_preload_libraries_in_progress

PG_MODULE_MAGIC;

void _PG_init(void);  // PostgreSQL 15 does not declare it for us
}

namespace {

// Runs in the postmaster while it loads shared_preload_libraries. Nothing here can throw: all
// calls are PostgreSQL's own, and an ERROR here stops the postmaster with a clear message.
void init_module() {
  if (!process_shared_preload_libraries_in_progress) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("pg_ha must be loaded via shared_preload_libraries"),
                    errhint("Add pg_ha to shared_preload_libraries in postgresql.conf and restart the server.")));
  }
  pg_ha::pg::define_gucs();
  pg_ha::pg::shmem::install_hooks();
  pg_ha::pg::install_fence_hooks();
  pg_ha::worker::register_worker();
}

}  // namespace

extern "C" void _PG_init(void) { init_module(); }
