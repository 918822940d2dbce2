// The worker's entry point: signals first, then the C++ body behind the boundary. Whatever goes
// wrong inside ends the worker with exit code 1 (restarted after bgw_restart_time), never with a
// signal that would make the postmaster restart every backend (DESIGN.md §3).
//
// Exit code 0 tells the postmaster never to start the worker again, so it is kept for a SIGTERM
// that is part of a server shutdown. A SIGTERM from anywhere else (an operator's kill, a
// monitoring tool) exits 1: the node must not stay without its HA worker until the next restart.
#include <fstream>
#include <string>

#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/cluster_loop.hpp"
#include "worker/standalone_loop.hpp"
#include "worker/worker_signals.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "miscadmin.h"            // MyProcPid, DataDir
#include "utils/pidfile.h"        // LOCK_FILE_LINE_PM_STATUS, PM_STATUS_STOPPING
#include "postmaster/bgworker.h"  // BackgroundWorkerUnblockSignals
#include "storage/ipc.h"          // proc_exit

PGDLLEXPORT void pg_ha_worker_main(Datum arg);
}

namespace {

int exit_code = 0;

// The postmaster writes "stopping" into line LOCK_FILE_LINE_PM_STATUS of postmaster.pid as soon as
// it gets a smart or fast shutdown request, before it signals any child (the status pg_ctl reads).
bool postmaster_is_stopping() {
  std::ifstream in(std::string(DataDir) + "/postmaster.pid");
  std::string line;
  for (int n = 1; n <= LOCK_FILE_LINE_PM_STATUS && std::getline(in, line); ++n) {
    if (n == LOCK_FILE_LINE_PM_STATUS) return line.rfind(PM_STATUS_STOPPING, 0) == 0;
  }
  return false;
}

void worker_body() {
  pg_ha::pg::shmem::set_worker_pid(MyProcPid);
  pg_ha::pg::Settings settings = pg_ha::pg::current_settings();
  bool ok = settings.standalone() ? pg_ha::worker::run_standalone_loop() : pg_ha::worker::run_cluster_loop();
  exit_code = ok ? 0 : 1;
  if (ok && pg_ha::worker::shutdown_requested() && !postmaster_is_stopping()) {
    pg_ha::pg::log_warning("worker stopped by a SIGTERM outside a server shutdown: exiting with code 1, "
                           "so that the postmaster starts it again");
    exit_code = 1;
  }
}

}  // namespace

void pg_ha_worker_main(Datum) {
  pg_ha::worker::install_signal_handlers();
  BackgroundWorkerUnblockSignals();
  pg_ha::pg::run_void("pg_ha worker", worker_body);
  proc_exit(exit_code);
}
