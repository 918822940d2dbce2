#include <csignal>

#include "worker/worker_signals.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"       // MyLatch
#include "storage/latch.h"   // SetLatch
}

namespace pg_ha::worker {
namespace {

volatile sig_atomic_t got_sigterm = 0;
volatile sig_atomic_t got_sighup = 0;

void handle_sigterm(SIGNAL_ARGS) {
  int saved_errno = errno;
  got_sigterm = 1;
  SetLatch(MyLatch);
  errno = saved_errno;
}

void handle_sighup(SIGNAL_ARGS) {
  int saved_errno = errno;
  got_sighup = 1;
  SetLatch(MyLatch);
  errno = saved_errno;
}

}  // namespace

void install_signal_handlers() {
  pqsignal(SIGTERM, handle_sigterm);
  pqsignal(SIGHUP, handle_sighup);
}

bool shutdown_requested() { return got_sigterm != 0; }

bool take_reload_request() {
  if (!got_sighup) return false;
  got_sighup = 0;
  return true;
}

}  // namespace pg_ha::worker
