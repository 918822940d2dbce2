// The hooks here are plain C in C++ clothing: they own no C++ objects, so ereport() may leave
// them directly, as it would leave any PostgreSQL callback.
#include <signal.h>
#include <unistd.h>

#include <cinttypes>
#include <cstring>

#include "pg/alter_system_guard.hpp"
#include "pg/clock.hpp"
#include "pg/fence.hpp"
#include "pg/gucs.hpp"
#include "pg/shmem.hpp"
#include "pg/guarded.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "access/xact.h"              // RegisterXactCallback, GetTopTransactionIdIfAny
#include "access/xlog.h"              // RecoveryInProgress
#include "libpq/auth.h"               // ClientAuthentication_hook
#include "libpq/libpq.h"              // PqCommMethods: silence a session that must not acknowledge
#include "libpq/libpq-be.h"           // Port
#include "miscadmin.h"                // MyProcPid
#include "replication/walsender.h"    // am_walsender
#include "storage/pmsignal.h"         // PostmasterIsAlive
#include "storage/latch.h"            // WaitLatch (the test-only commit hold)
#include "storage/proc.h"             // MyProc
#include "storage/procarray.h"        // BackendPidGetProc
#include "tcop/tcopprot.h"            // whereToSendOutput
#include "tcop/utility.h"             // ProcessUtility_hook
#include "utils/acl.h"                // has_privs_of_role, get_role_oid
#include "utils/backend_status.h"     // backend types and pids
#include "utils/wait_event.h"         // PG_WAIT_EXTENSION
}

namespace pg_ha::pg {
namespace {

ClientAuthentication_hook_type prev_client_auth_hook = nullptr;
ProcessUtility_hook_type prev_process_utility_hook = nullptr;

void refuse_commit_if_fenced() {
  char reason[shmem::kFenceReasonCapacity + 64];
  if (!writes_refused(reason, sizeof reason)) return;
  ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION), errmsg("pg_ha: this node is fenced: %s", reason),
                  errhint("Connect to the primary of the cluster.")));
}

// The commit record is flushed (and, in synchronous mode, confirmed) between PRE_COMMIT and
// COMMIT. If the postmaster died meanwhile, this orphan must not acknowledge: no replica will
// ever see what the client would be told is committed. Exiting now leaves the client with a
// broken connection, an unknown outcome, as with any crash. An ERROR or FATAL cannot be raised
// here (the transaction is committed: aborting it would PANIC), and nothing else needs this
// process once the postmaster is gone, so it leaves at once, as PostgreSQL's quickdie() does.
void exit_if_orphaned_after_commit() {
  shmem::FenceState state;
  shmem::read_fence_state(&state);
  if (state.standalone || postmaster_alive()) return;
  write_stderr("pg_ha: the postmaster is gone: exiting without acknowledging a commit no replica may have\n");
  _exit(2);
}

// Output methods that send nothing: installed in a session that must end without acknowledging.
void silent_reset() {}
int silent_flush() { return 0; }
int silent_flush_if_writable() { return 0; }
bool silent_is_send_pending() { return false; }
int silent_putmessage(char, const char*, size_t) { return 0; }
void silent_putmessage_noblock(char, const char*, size_t) {}
const PQcommMethods kSilentComm = {silent_reset,           silent_flush,      silent_flush_if_writable,
                                   silent_is_send_pending, silent_putmessage, silent_putmessage_noblock};

// A commit that passed PRE_COMMIT in time can reach COMMIT after the write deadline: its commit
// record was flushed (or waited for a synchronous standby) in between, and the process may have
// stalled there (slow fsync, SIGSTOP, a paused VM). By now etcd may have expired the lease and
// another node may be primary, so it must not be acknowledged. It cannot be aborted either (the
// commit record is written: an ERROR or FATAL here would PANIC), so the session ends instead:
// from here on nothing more reaches the client (CommandComplete, ReadyForQuery and any error
// report go nowhere; nothing of them was flushed yet), and a pending terminate makes the backend
// exit at its next interrupt check, which comes, at the latest, before it reads another command,
// once the commit has finished. The client sees a lost connection: an unknown outcome, as after a
// crash, never a false acknowledgement.
void end_session_if_deadline_passed() {
  if (MyBackendType != B_BACKEND || whereToSendOutput != DestRemote) return;  // nobody to acknowledge
  char reason[shmem::kFenceReasonCapacity + 64];
  if (!writes_refused(reason, sizeof reason)) return;
  PqCommMethods = &kSilentComm;
  ereport(LOG, (errmsg("pg_ha: ending this session without acknowledging its commit: %s", reason),
                errdetail("The commit passed the pre-commit check in time but reached its end after the write deadline; "
                          "it is durable here but another node may be primary.")));
  ProcDiePending = true;
  InterruptPending = true;
  SetLatch(MyLatch);
}

// Tests only (pg_ha._test_hold_commits): a writing commit that passed the pre-commit check waits
// here, as one stalled by a slow fsync or a SIGSTOP would, so a test can let the deadline pass
// before it reaches COMMIT. Only sessions that have pg_ha.enable_test_functions on are held.
// Cancel, terminate and postmaster death end the wait; cancel and terminate then abort the
// transaction (this is still PRE_COMMIT, where an error aborts cleanly).
void hold_commit_for_test() {
  if (!test_functions_enabled() || !shmem::commit_hold()) return;
  shmem::count_held_commit(1);
  while (shmem::commit_hold() && !ProcDiePending && !QueryCancelPending) {
    int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH, 10, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    if (rc & WL_POSTMASTER_DEATH) break;
  }
  shmem::count_held_commit(-1);
  CHECK_FOR_INTERRUPTS();
}

void xact_callback(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      // Only a transaction that wrote has an XID; reads always go on.
      if (TransactionIdIsValid(GetTopTransactionIdIfAny())) {
        refuse_commit_if_fenced();
        hold_commit_for_test();
      }
      break;
    case XACT_EVENT_COMMIT:
      if (TransactionIdIsValid(GetTopTransactionIdIfAny())) {
        exit_if_orphaned_after_commit();
        end_session_if_deadline_passed();
      }
      break;
    default:
      break;
  }
}

// Admin sessions (superusers included) are admitted while fenced and spared by
// terminate_client_backends(). Runs inside InitPostgres' transaction, so catalogs are readable.
bool session_is_admin(Port* port) {
  Oid user = get_role_oid(port->user_name, true);
  if (!OidIsValid(user)) return false;
  if (superuser_arg(user)) return true;
  Oid admin = get_role_oid(admin_role_name(), true);
  return OidIsValid(admin) && has_privs_of_role(user, admin);
}

void client_auth_hook(Port* port, int status) {
  if (prev_client_auth_hook) prev_client_auth_hook(port, status);
  if (status != STATUS_OK) return;
  if (am_walsender) return;   // replication must reach a fenced primary (followers catch up)
  shmem::FenceState state;
  shmem::read_fence_state(&state);
  if (state.standalone) return;   // never fenced: spare every login the catalog lookups below
  bool admin = session_is_admin(port);
  shmem::mark_session(MyProc->pgprocno, MyProcPid, admin);
  if (admin) return;
  char reason[shmem::kFenceReasonCapacity + 64];
  if (!writes_refused(reason, sizeof reason)) return;
  ereport(FATAL, (errcode(ERRCODE_CANNOT_CONNECT_NOW),
                  errmsg("pg_ha: this node is fenced (%s): connect to the primary", reason)));
}

// COMMIT PREPARED finishes a transaction prepared earlier without passing PRE_COMMIT again.
// ALTER SYSTEM could override what pg_ha sets per node (alter_system_guard.hpp).
void process_utility_hook(PlannedStmt* pstmt, const char* query, bool read_only_tree, ProcessUtilityContext context,
                          ParamListInfo params, QueryEnvironment* env, DestReceiver* dest, QueryCompletion* qc) {
  Node* stmt = pstmt->utilityStmt;
  if (IsA(stmt, TransactionStmt) && castNode(TransactionStmt, stmt)->kind == TRANS_STMT_COMMIT_PREPARED)
    refuse_commit_if_fenced();
  refuse_alter_system_of_managed_parameter(stmt);
  if (prev_process_utility_hook)
    prev_process_utility_hook(pstmt, query, read_only_tree, context, params, env, dest, qc);
  else
    standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

int terminate_client_backends_c() {
  int signalled = 0;
  pgstat_clear_backend_activity_snapshot();   // read the current sessions, not a cached list
  int count = pgstat_fetch_stat_numbackends();
  for (int i = 1; i <= count; ++i) {
    LocalPgBackendStatus* local = pgstat_fetch_stat_local_beentry(i);
    if (!local || local->backendStatus.st_backendType != B_BACKEND) continue;
    int pid = local->backendStatus.st_procpid;
    if (pid <= 0 || pid == MyProcPid) continue;
    PGPROC* proc = BackendPidGetProc(pid);
    if (!proc || shmem::session_exempt(proc->pgprocno, pid)) continue;
    if (kill(pid, SIGTERM) == 0) ++signalled;
  }
  pgstat_clear_backend_activity_snapshot();
  return signalled;
}

}  // namespace

bool postmaster_alive() {
  if (!IsUnderPostmaster) return true;
  return getppid() == PostmasterPid && PostmasterIsAlive();
}

bool writes_refused(char* reason, size_t reason_size) {
  shmem::FenceState state;
  shmem::read_fence_state(&state);
  if (state.standalone || RecoveryInProgress()) return false;
  if (!postmaster_alive()) {
    strlcpy(reason, "postmaster is gone", reason_size);
    return true;
  }
  if (state.fenced) {
    shmem::read_fence_reason(reason, reason_size);
    if (!reason[0]) strlcpy(reason, "fenced by the pg_ha worker", reason_size);
    return true;
  }
  int64_t now = monotonic_ms();
  if (state.write_deadline_ms > now) return false;
  if (state.write_deadline_ms == 0)
    strlcpy(reason, "no leadership lease", reason_size);
  else
    snprintf(reason, reason_size, "leadership lease not renewed in time (write deadline passed %" PRId64 " ms ago)",
             now - state.write_deadline_ms);
  return true;
}

void install_fence_hooks() {
  RegisterXactCallback(xact_callback, nullptr);
  prev_client_auth_hook = ClientAuthentication_hook;
  ClientAuthentication_hook = client_auth_hook;
  prev_process_utility_hook = ProcessUtility_hook;
  ProcessUtility_hook = process_utility_hook;
}

int terminate_client_backends() { return guard_call(terminate_client_backends_c); }

}  // namespace pg_ha::pg
