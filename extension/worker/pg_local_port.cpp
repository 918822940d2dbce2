#include <string>

#include "pg/clock.hpp"
#include "pg/fence.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "worker/local_actions.hpp"
#include "worker/local_observation.hpp"
#include "worker/pg_local_port.hpp"
#include "worker/slot_calls.hpp"
#include "worker/worker_signals.hpp"
#include "worker/worker_wait.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "utils/timestamp.h"  // PgStartTime
}

namespace pg_ha::worker {

int64_t PgLocalPort::monotonic_ms() { return pg::monotonic_ms(); }

int64_t PgLocalPort::wall_clock_unix_ms() { return pg::wall_clock_unix_ms(); }

int64_t PgLocalPort::postmaster_incarnation() { return static_cast<int64_t>(PgStartTime); }

core::LocalObservation PgLocalPort::observe() { return observe_local().observation; }

void PgLocalPort::publish_gate(int64_t deadline_ms, bool fenced, const std::string& reason) {
  // Once shutting down, nothing reopens the gate: the lease is about to be released.
  if (shutdown_seen_ms_ >= 0 && !fenced) return;
  // Order matters for fail-closed: raise the flag before moving the deadline, lower it after.
  if (fenced) {
    pg::shmem::set_fence(true, reason.c_str());
    pg::shmem::publish_deadline(deadline_ms);
  } else {
    pg::shmem::publish_deadline(deadline_ms);
    pg::shmem::set_fence(false, "");
  }
}

void PgLocalPort::terminate_client_backends() {
  int n = pg::terminate_client_backends();
  if (n > 0) pg::log_info("fenced: terminated " + std::to_string(n) + " client session(s)");
}

void PgLocalPort::promote() {
  Status s = request_promote();
  if (!s.ok()) pg::log_warning(s.error().message);
}

void PgLocalPort::reload_configuration() {
  Status s = reload_postgres();
  if (!s.ok()) pg::log_warning(s.error().message);
}

void PgLocalPort::publish_snapshot(const std::string& json) {
  if (!pg::shmem::publish_snapshot(json)) pg::log_warning("status snapshot larger than 64 kB, not published");
}

void PgLocalPort::log(agent::LogLevel level, const std::string& message) {
  switch (level) {
    case agent::LogLevel::Debug: break;   // not worth a DBA's attention
    case agent::LogLevel::Info: pg::log_info(message); break;
    case agent::LogLevel::Warning: pg::log_warning(message); break;
  }
}

// Fence before anything else: once the lease is released another node may be promoted, and
// client sessions of a smart shutdown may still be running here.
void PgLocalPort::note_shutdown() {
  if (shutdown_seen_ms_ >= 0) return;
  publish_gate(0, true, "the server is shutting down");
  shutdown_seen_ms_ = pg::monotonic_ms();
}

bool PgLocalPort::should_stop() {
  reload_if_requested();
  bool stop = shutdown_requested() || !pg::postmaster_alive();
  if (stop) note_shutdown();
  return stop;
}

std::optional<std::vector<core::ExistingSlot>> PgLocalPort::list_slots() { return worker::list_slots(); }
Status PgLocalPort::create_slot(const std::string& name) { return create_physical_slot(name); }
Status PgLocalPort::drop_slot(const std::string& name) { return worker::drop_slot(name); }
Status PgLocalPort::advance_slot(const std::string& name, core::Lsn to) { return advance_physical_slot(name, to); }

bool PgLocalPort::io_should_abort() {
  if (!pg::postmaster_alive()) return true;
  if (!shutdown_requested()) return false;
  note_shutdown();
  return pg::monotonic_ms() - shutdown_seen_ms_ > kShutdownGraceMs;
}

// The pg_ha.* tag GUCs are PGC_SIGHUP: should_stop() reloads them, and the next step publishes them.
std::optional<core::Tags> PgLocalPort::current_tags() { return pg::current_settings().tags; }

}  // namespace pg_ha::worker
