// Waiting in the worker's loop: on the latch (signals, SetLatch from backends), with a timeout,
// and noticing postmaster death as a result instead of exiting from inside C++ frames.
#pragma once

#include <cstdint>

namespace pg_ha::worker {

enum class WaitResult { Woken, TimedOut, PostmasterDied };

WaitResult wait_for_work(int64_t timeout_ms);

// Reloads the configuration file when SIGHUP arrived; true if it did.
bool reload_if_requested();

}  // namespace pg_ha::worker
