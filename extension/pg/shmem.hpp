// pg_ha's shared memory: what the worker publishes and every backend reads.
//   - write deadline (CLOCK_BOOTTIME ms, pg/clock.hpp): commits are allowed only before it (the fence)
//   - fenced and standalone flags (atomics: read on every commit, no lock) and the fence reason
//     (under a spinlock, read only when refusing)
//   - status snapshot: JSON text (format in docs/sql-api.md), under an LWLock; readers copy it
//     under the lock and parse it after releasing it
//   - which client sessions belong to the admin role (written by each backend at login), so the
//     worker can spare them when it terminates client sessions
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pg_ha::pg::shmem {

constexpr size_t kSnapshotCapacity = 64 * 1024;
constexpr size_t kFenceReasonCapacity = 256;

// _PG_init: chains shmem_request_hook and shmem_startup_hook.
void install_hooks();

// --- written by the worker ---
// Moves the write deadline (pg::monotonic_ms(), CLOCK_BOOTTIME; 0 = no writes). Only the worker calls this, after a
// successful keep-alive of the leader's lease.
void publish_deadline(int64_t deadline_ms);
void set_fence(bool fenced, const char* reason);
inline void set_fence(bool fenced, const std::string& reason) { set_fence(fenced, reason.c_str()); }
void set_standalone(bool standalone);
void set_worker_pid(int pid);
// Replaces the snapshot. Returns false (and keeps the old one) when json exceeds the capacity.
bool publish_snapshot(const std::string& json);

// --- readers (C-safe: no allocation, no exceptions) ---
struct FenceState {
  bool fenced;
  bool standalone;
  int64_t write_deadline_ms;
  int worker_pid;
};
void read_fence_state(FenceState* out);
void read_fence_reason(char* out, size_t size);

// Copy of the snapshot taken under the lock ("" until the worker first published), and its
// sequence number (0 = never published).
std::string read_snapshot(uint64_t* sequence);

// --- test-only injection point (pg_ha._test_hold_commits): writing commits of sessions with
// pg_ha.enable_test_functions on wait after passing the pre-commit check while it is set ---
void set_commit_hold(bool hold);
bool commit_hold();
void count_held_commit(int delta);
int held_commits();

// --- client sessions exempt from termination while fenced (indexed by PGPROC number) ---
void mark_session(int pgprocno, int pid, bool exempt);
bool session_exempt(int pgprocno, int pid);

}  // namespace pg_ha::pg::shmem
