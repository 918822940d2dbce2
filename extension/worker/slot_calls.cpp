#include <string>
#include <vector>

#include "worker/slot_calls.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "access/xlog.h"                  // RecoveryInProgress
#include "access/xlogrecovery.h"          // HotStandbyActive, GetXLogReplayRecPtr
#include "replication/slot.h"             // ReplicationSlot*, MyReplicationSlot
#include "storage/condition_variable.h"   // ConditionVariableBroadcast, ConditionVariableCancelSleep
#include "storage/lwlock.h"               // LWLockReleaseAll
}

namespace pg_ha::worker {
namespace {

// ReplicationSlotRelease() also clears a flag in the caller's procarray entry
// (ProcGlobal->statusFlags[MyProc->pgxactoff]); this worker has no database connection and is not
// in the procarray, so that write would land on another backend's entry (PostgreSQL later guarded
// it for its own auxiliary processes, upstream commit 9510a826, not in every 15.x). For a
// persistent physical slot, releasing is only this.
void release_acquired_slot() {
  ReplicationSlot* slot = MyReplicationSlot;
  if (!slot) return;
  SpinLockAcquire(&slot->mutex);
  slot->active_pid = 0;
  SpinLockRelease(&slot->mutex);
  ConditionVariableBroadcast(&slot->active_cv);
  MyReplicationSlot = nullptr;
}

// What an aborting backend does for slots: the failed call may have held slot locks or left a
// slot acquired. Then the error goes on to guard_call, which turns it into a C++ exception.
void cleanup_after_error() {
  LWLockReleaseAll();
  ConditionVariableCancelSleep();
  release_acquired_slot();
}

// The operations as plain C-style functions (no C++ objects in these frames: the longjmp of an
// error passes through them to guard_call's PG_TRY).
void create_body(const char* name) {
  ReplicationSlotCreate(name, false, RS_PERSISTENT, false);
  ReplicationSlotReserveWal();
  ReplicationSlotMarkDirty();
  ReplicationSlotSave();
  release_acquired_slot();
}

void drop_body(const char* name) { ReplicationSlotDrop(name, true); }

// pg_replication_slot_advance() for a physical slot, which is what it does: move restart_lsn
// forward, never past what this node has (replayed, on a standby), and recompute what WAL to keep.
void advance_body(const char* name, XLogRecPtr to) {
  ReplicationSlotAcquire(name, true);
  XLogRecPtr limit = RecoveryInProgress() ? GetXLogReplayRecPtr(nullptr) : GetFlushRecPtr(nullptr);
  XLogRecPtr target = to < limit ? to : limit;
  ReplicationSlot* slot = MyReplicationSlot;
  bool moved = false;
  SpinLockAcquire(&slot->mutex);
  if (slot->data.database == InvalidOid && slot->data.restart_lsn != InvalidXLogRecPtr &&
      slot->data.restart_lsn < target) {
    slot->data.restart_lsn = target;
    moved = true;
  }
  SpinLockRelease(&slot->mutex);
  if (moved) {
    ReplicationSlotMarkDirty();
    ReplicationSlotsComputeRequiredLSN();
  }
  release_acquired_slot();
}

// Runs one operation; on an error cleans up as an aborting backend would, then lets the error go
// on to guard_call.
void with_cleanup(void (*body)(const char*, XLogRecPtr), const char* name, XLogRecPtr lsn) {
  PG_TRY();
  { body(name, lsn); }
  PG_CATCH();
  {
    cleanup_after_error();
    PG_RE_THROW();
  }
  PG_END_TRY();
}

void create_op(const char* name, XLogRecPtr) { create_body(name); }
void drop_op(const char* name, XLogRecPtr) { drop_body(name); }

template <class Fn>
Status guarded(Fn fn) {
  try {
    fn();
    return ok_status();
  } catch (const std::exception& e) {
    return make_error(ErrorKind::Internal, e.what());
  }
}

}  // namespace

std::optional<std::vector<core::ExistingSlot>> list_slots() {
  if (!ReplicationSlotCtl || max_replication_slots <= 0) return std::nullopt;
  if (RecoveryInProgress() && !HotStandbyActive()) return std::nullopt;
  // Copied as plain data under the locks (nothing there may allocate or throw), converted after.
  struct Raw {
    NameData name;
    bool physical;
    bool active;
    XLogRecPtr restart_lsn;
  };
  std::vector<Raw> raw(static_cast<size_t>(max_replication_slots));
  size_t count = 0;
  pg::lwlock_acquire(ReplicationSlotControlLock, false);
  for (int i = 0; i < max_replication_slots; ++i) {
    ReplicationSlot* s = &ReplicationSlotCtl->replication_slots[i];
    if (!s->in_use) continue;
    Raw& r = raw[count++];
    SpinLockAcquire(&s->mutex);
    r.name = s->data.name;
    r.physical = s->data.database == InvalidOid;
    r.active = s->active_pid != 0;
    r.restart_lsn = s->data.restart_lsn;
    SpinLockRelease(&s->mutex);
  }
  pg::lwlock_release(ReplicationSlotControlLock);
  std::vector<core::ExistingSlot> out;
  for (size_t i = 0; i < count; ++i)
    out.push_back({NameStr(raw[i].name), raw[i].physical, raw[i].active, raw[i].restart_lsn});
  return out;
}

Status create_physical_slot(const std::string& name) {
  return guarded([&] { pg::guard_call(with_cleanup, &create_op, name.c_str(), XLogRecPtr{0}); });
}

Status drop_slot(const std::string& name) {
  return guarded([&] { pg::guard_call(with_cleanup, &drop_op, name.c_str(), XLogRecPtr{0}); });
}

Status advance_physical_slot(const std::string& name, core::Lsn to) {
  return guarded([&] { pg::guard_call(with_cleanup, &advance_body, name.c_str(), static_cast<XLogRecPtr>(to)); });
}

}  // namespace pg_ha::worker
