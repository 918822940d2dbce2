// The worker's signal handling: handlers only set a flag and the latch (STYLE.md); the loop reads
// and clears the flags.
#pragma once

namespace pg_ha::worker {

void install_signal_handlers();   // before BackgroundWorkerUnblockSignals()
bool shutdown_requested();        // SIGTERM seen (stays set)
bool take_reload_request();       // SIGHUP seen since the last call

}  // namespace pg_ha::worker
