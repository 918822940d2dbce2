#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "pg/gucs.hpp"
#include "pg/pg_calls.hpp"
#include "pg/shmem.hpp"

extern "C" {
#include "miscadmin.h"        // MaxBackends, shmem_request_hook
#include "port/atomics.h"     // pg_atomic_uint64
#include "storage/ipc.h"      // shmem_startup_hook
#include "storage/lwlock.h"   // named tranche, AddinShmemInitLock
#include "storage/shmem.h"    // ShmemInitStruct, RequestAddinShmemSpace
#include "storage/spin.h"     // slock_t
}

namespace pg_ha::pg::shmem {
namespace {

constexpr const char* kName = "pg_ha";

// The commit path reads only atomics (no lock on every commit); the reason text, read only when
// refusing, sits under a spinlock.
struct SharedState {
  pg_atomic_uint64 write_deadline_ms;
  pg_atomic_uint32 fenced;
  pg_atomic_uint32 standalone;
  pg_atomic_uint32 worker_pid;
  pg_atomic_uint32 commit_hold;     // tests only: hold commits between PRE_COMMIT and COMMIT
  pg_atomic_uint32 held_commits;    // tests only: how many are held now
  slock_t reason_mutex;         // guards fence_reason
  char fence_reason[kFenceReasonCapacity];
  LWLock* snapshot_lock;        // guards the snapshot fields
  uint64_t snapshot_sequence;
  uint32_t snapshot_length;
  char snapshot[kSnapshotCapacity];
  int session_slots;
  pg_atomic_uint32 exempt_pid[FLEXIBLE_ARRAY_MEMBER];  // by pgprocno: pid of an admin session, else 0
};

SharedState* shared = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;

Size shared_size() {
  return add_size(offsetof(SharedState, exempt_pid), mul_size(MaxBackends, sizeof(pg_atomic_uint32)));
}

void request_shmem() {
  if (prev_request_hook) prev_request_hook();
  RequestAddinShmemSpace(shared_size());
  RequestNamedLWLockTranche(kName, 1);
}

void init_state(SharedState* s) {
  bool standalone = standalone_configured();
  pg_atomic_init_u64(&s->write_deadline_ms, 0);
  // Fail closed: a cluster node refuses writes until its worker holds the leader lease.
  pg_atomic_init_u32(&s->fenced, standalone ? 0 : 1);
  pg_atomic_init_u32(&s->standalone, standalone ? 1 : 0);
  pg_atomic_init_u32(&s->worker_pid, 0);
  pg_atomic_init_u32(&s->commit_hold, 0);
  pg_atomic_init_u32(&s->held_commits, 0);
  SpinLockInit(&s->reason_mutex);
  strlcpy(s->fence_reason, standalone ? "" : "no leadership lease", sizeof s->fence_reason);
  s->snapshot_lock = &(GetNamedLWLockTranche(kName))->lock;
  s->snapshot_sequence = 0;
  s->snapshot_length = 0;
  s->snapshot[0] = '\0';
  s->session_slots = MaxBackends;
  for (int i = 0; i < MaxBackends; ++i) pg_atomic_init_u32(&s->exempt_pid[i], 0);
}

void startup_shmem() {
  if (prev_startup_hook) prev_startup_hook();
  bool found = false;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  shared = static_cast<SharedState*>(ShmemInitStruct(kName, shared_size(), &found));
  if (!found) init_state(shared);
  LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void install_hooks() {
  prev_request_hook = shmem_request_hook;
  shmem_request_hook = request_shmem;
  prev_startup_hook = shmem_startup_hook;
  shmem_startup_hook = startup_shmem;
}

// Exchanges are full barriers: a fence raised before the deadline moves is seen in that order.
void publish_deadline(int64_t deadline_ms) {
  pg_atomic_exchange_u64(&shared->write_deadline_ms, static_cast<uint64>(deadline_ms < 0 ? 0 : deadline_ms));
}

void set_fence(bool fenced, const char* reason) {
  SpinLockAcquire(&shared->reason_mutex);
  strlcpy(shared->fence_reason, reason ? reason : "", sizeof shared->fence_reason);
  SpinLockRelease(&shared->reason_mutex);
  pg_atomic_exchange_u32(&shared->fenced, fenced ? 1 : 0);
}

void set_standalone(bool standalone) { pg_atomic_exchange_u32(&shared->standalone, standalone ? 1 : 0); }

void set_worker_pid(int pid) { pg_atomic_exchange_u32(&shared->worker_pid, static_cast<uint32>(pid)); }

bool publish_snapshot(const std::string& json) {
  if (json.size() >= kSnapshotCapacity) return false;
  lwlock_acquire(shared->snapshot_lock, true);
  memcpy(shared->snapshot, json.data(), json.size());
  shared->snapshot_length = static_cast<uint32_t>(json.size());
  shared->snapshot_sequence++;
  lwlock_release(shared->snapshot_lock);
  return true;
}

void read_fence_state(FenceState* out) {
  if (!shared) {  // not preloaded: _PG_init refuses, but never read through a null pointer
    memset(out, 0, sizeof *out);
    out->standalone = true;
    return;
  }
  out->fenced = pg_atomic_read_u32(&shared->fenced) != 0;
  out->standalone = pg_atomic_read_u32(&shared->standalone) != 0;
  out->worker_pid = static_cast<int>(pg_atomic_read_u32(&shared->worker_pid));
  pg_read_barrier();   // the flag before the deadline, the reverse of the writer's order
  out->write_deadline_ms = static_cast<int64_t>(pg_atomic_read_u64(&shared->write_deadline_ms));
}

void read_fence_reason(char* out, size_t size) {
  if (!shared) {
    strlcpy(out, "", size);
    return;
  }
  SpinLockAcquire(&shared->reason_mutex);
  strlcpy(out, shared->fence_reason, size);
  SpinLockRelease(&shared->reason_mutex);
}

std::string read_snapshot(uint64_t* sequence) {
  // Allocate before taking the lock: nothing may throw while it is held.
  std::string copy;
  copy.reserve(kSnapshotCapacity);
  lwlock_acquire(shared->snapshot_lock, false);
  copy.assign(shared->snapshot, shared->snapshot_length);   // fits the reserved capacity
  *sequence = shared->snapshot_sequence;
  lwlock_release(shared->snapshot_lock);
  return copy;
}

void set_commit_hold(bool hold) { pg_atomic_write_u32(&shared->commit_hold, hold ? 1 : 0); }

bool commit_hold() { return shared && pg_atomic_read_u32(&shared->commit_hold) != 0; }

void count_held_commit(int delta) {
  if (delta > 0) pg_atomic_fetch_add_u32(&shared->held_commits, static_cast<int32>(delta));
  else pg_atomic_fetch_sub_u32(&shared->held_commits, static_cast<int32>(-delta));
}

int held_commits() { return static_cast<int>(pg_atomic_read_u32(&shared->held_commits)); }

void mark_session(int pgprocno, int pid, bool exempt) {
  if (!shared || pgprocno < 0 || pgprocno >= shared->session_slots) return;
  pg_atomic_write_u32(&shared->exempt_pid[pgprocno], exempt ? static_cast<uint32>(pid) : 0);
}

bool session_exempt(int pgprocno, int pid) {
  if (!shared || pgprocno < 0 || pgprocno >= shared->session_slots) return false;
  return pg_atomic_read_u32(&shared->exempt_pid[pgprocno]) == static_cast<uint32>(pid);
}

}  // namespace pg_ha::pg::shmem
