#include <cstdint>

#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "miscadmin.h"           // MyLatch
#include "storage/latch.h"       // WaitLatch
#include "utils/wait_event.h"    // PG_WAIT_EXTENSION
}

namespace pg_ha::worker {
namespace {

int wait_latch_c(long timeout_ms) {
  return WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH, timeout_ms, PG_WAIT_EXTENSION);
}

}  // namespace

WaitResult wait_for_work(int64_t timeout_ms) {
  long timeout = timeout_ms < 0 ? 0 : static_cast<long>(timeout_ms);
  int events = pg::guard_call(wait_latch_c, timeout);
  ResetLatch(MyLatch);
  if (events & WL_POSTMASTER_DEATH) return WaitResult::PostmasterDied;
  return (events & WL_LATCH_SET) ? WaitResult::Woken : WaitResult::TimedOut;
}

bool reload_if_requested() {
  if (!take_reload_request()) return false;
  pg::reload_config_file();
  return true;
}

}  // namespace pg_ha::worker
