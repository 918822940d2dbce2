// The worker's entry point: signals first, then the C++ body behind the boundary. An exception or
// a PostgreSQL ERROR inside ends the worker with exit code 1 (the postmaster starts it again after
// bgw_restart_time) instead of a crash that would make the postmaster restart every backend
// (DESIGN.md §3); a requested shutdown exits 0. The boundary cannot catch a crash of our own
// code (a bug): that would still restart every backend.
#include <string>

#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/cluster_loop.hpp"
#include "worker/standalone_loop.hpp"
#include "worker/worker_signals.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "miscadmin.h"            // MyProcPid
#include "postmaster/bgworker.h"  // BackgroundWorkerUnblockSignals
#include "storage/ipc.h"          // proc_exit

PGDLLEXPORT void pg_ha_worker_main(Datum arg);
}

namespace {

int exit_code = 0;

void worker_body() {
  pg_ha::pg::shmem::set_worker_pid(MyProcPid);
  pg_ha::pg::Settings settings = pg_ha::pg::current_settings();
  bool ok = settings.standalone() ? pg_ha::worker::run_standalone_loop() : pg_ha::worker::run_cluster_loop();
  exit_code = ok ? 0 : 1;
}

}  // namespace

void pg_ha_worker_main(Datum) {
  pg_ha::worker::install_signal_handlers();
  BackgroundWorkerUnblockSignals();
  pg_ha::pg::run_void("pg_ha worker", worker_body);
  proc_exit(exit_code);
}
