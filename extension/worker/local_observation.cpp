// Reads PostgreSQL's shared state the way its own monitoring views do, under the same spinlocks.
// None of these reads can ereport(ERROR) except the backend-status snapshot, which is guarded.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/observation.hpp"
#include "core/sync_names.hpp"
#include "worker/local_observation.hpp"
#include "pg/guarded.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "access/xlog.h"                   // RecoveryInProgress, GetFlushRecPtr, GetSystemIdentifier
#include "access/xlogrecovery.h"           // GetXLogReplayRecPtr, PromoteIsTriggered
#include "replication/syncrep.h"           // SyncRepStandbyNames
#include "replication/walreceiver.h"       // WalRcv
#include "replication/walsender.h"         // max_wal_senders
#include "replication/walsender_private.h" // WalSndCtl
#include "utils/backend_status.h"          // application_name of walsenders
#include "utils/guc.h"                     // GetNumConfigOptions
#include "utils/guc_tables.h"              // get_guc_variables, GUC_PENDING_RESTART
#include "utils/timestamp.h"               // GetCurrentTimestamp, TimestampDifferenceMilliseconds
}

namespace pg_ha::worker {
namespace {

// pid -> application_name of physical walsenders (logical ones are connected to a database).
std::map<int, std::string> walsender_names() {
  std::map<int, std::string> names;
  pg::guard_call(pgstat_clear_backend_activity_snapshot);
  int count = pg::guard_call(pgstat_fetch_stat_numbackends);
  for (int i = 1; i <= count; ++i) {
    LocalPgBackendStatus* local = pg::guard_call(pgstat_fetch_stat_local_beentry, i);
    if (!local) continue;
    const PgBackendStatus& b = local->backendStatus;
    if (b.st_backendType != B_WAL_SENDER || b.st_databaseid != InvalidOid) continue;
    names[b.st_procpid] = b.st_appname ? b.st_appname : "";
  }
  pg::guard_call(pgstat_clear_backend_activity_snapshot);
  return names;
}

std::vector<core::StandbyConnection> connected_standbys() {
  std::vector<core::StandbyConnection> out;
  if (!WalSndCtl || max_wal_senders <= 0) return out;
  std::map<int, std::string> names = walsender_names();
  for (int i = 0; i < max_wal_senders; ++i) {
    WalSnd* snd = &WalSndCtl->walsnds[i];
    SpinLockAcquire(&snd->mutex);
    int pid = snd->pid;
    WalSndState state = snd->state;
    XLogRecPtr flush = snd->flush;
    SpinLockRelease(&snd->mutex);
    auto name = names.find(pid);
    if (pid == 0 || name == names.end()) continue;
    core::StandbyName standby = core::parse_standby_application_name(name->second);
    out.push_back({standby.name, flush, state == WALSNDSTATE_STREAMING, standby.identity});
  }
  return out;
}

const char* receiver_state_name(WalRcvState state) {
  switch (state) {
    case WALRCV_STOPPED: return "stopped";
    case WALRCV_STARTING: return "starting";
    case WALRCV_STREAMING: return "streaming";
    case WALRCV_WAITING: return "waiting";
    case WALRCV_RESTARTING: return "restarting";
    case WALRCV_STOPPING: return "stopping";
  }
  return "unknown";
}

// How long the receiver may go without a message before the link counts as silent. The receiver
// asks the primary for a reply after half of wal_receiver_timeout without a message (the sidecar
// sets 5 s), so a healthy link, even an idle one, is never silent longer than that; 1.5 s of slack
// covers the answer and the receiver's own wake-ups. 0 (timeout disabled): no such bound.
int64_t silence_limit_ms() { return wal_receiver_timeout > 0 ? wal_receiver_timeout / 2 + 1500 : 0; }

}  // namespace

ReceiverView observe_receiver() {
  ReceiverView v;
  if (!WalRcv) return v;
  SpinLockAcquire(&WalRcv->mutex);
  WalRcvState state = WalRcv->walRcvState;
  TimestampTz last_message = WalRcv->lastMsgReceiptTime;
  std::string host = WalRcv->sender_host;
  int port = WalRcv->sender_port;
  SpinLockRelease(&WalRcv->mutex);
  v.state = receiver_state_name(state);
  if (state != WALRCV_STREAMING) return v;
  v.sender_host = host;
  v.sender_port = port;
  if (last_message > 0) v.silence_ms = TimestampDifferenceMilliseconds(last_message, GetCurrentTimestamp());
  int64_t limit = silence_limit_ms();
  // Connected is not enough: a cut link keeps its state for as long as wal_receiver_timeout and
  // TCP let it, while the replica falls behind (issue 14 item 4).
  if (limit > 0 && v.silence_ms > limit) {
    v.state = "silent";
  } else {
    v.streaming = true;
  }
  return v;
}

namespace {

// Replica: the newest WAL this node holds, received or replayed, with its timeline.
void observe_replica_position(core::LocalObservation* o) {
  TimeLineID replay_tli = 0;
  TimeLineID receive_tli = 0;
  XLogRecPtr replay = GetXLogReplayRecPtr(&replay_tli);
  XLogRecPtr received = GetWalRcvFlushRecPtr(nullptr, &receive_tli);
  o->replay_lsn = replay;
  if (receive_tli != 0 && received >= replay) {
    o->flush_lsn = received;
    o->timeline = receive_tli;
  } else {
    o->flush_lsn = replay;
    o->timeline = replay_tli;
  }
}

// Where timeline `tli` branched off its parent: the switch point on the last line of its history
// file (pg_wal/<tli>.history; the worker runs in the data directory). Read with plain C++: a
// missing or odd file is 0 (unknown), never an error. Cached: a timeline's history never changes.
core::Lsn timeline_start(TimeLineID tli) {
  static TimeLineID cached_tli = 0;
  static core::Lsn cached = 0;
  if (tli <= 1) return 0;
  if (tli == cached_tli) return cached;
  char path[64];
  snprintf(path, sizeof path, "pg_wal/%08X.history", static_cast<unsigned>(tli));
  std::ifstream in(path);
  std::string line;
  core::Lsn start = 0;
  while (std::getline(in, line)) {
    unsigned parent = 0, hi = 0, lo = 0;
    if (sscanf(line.c_str(), "%u %X/%X", &parent, &hi, &lo) == 3) start = (static_cast<core::Lsn>(hi) << 32) | lo;
  }
  if (start != 0) {
    cached_tli = tli;
    cached = start;
  }
  return start;
}

bool any_guc_pending_restart() {
  struct config_generic** vars = get_guc_variables();
  int count = GetNumConfigOptions();
  for (int i = 0; i < count; ++i)
    if (vars[i]->status & GUC_PENDING_RESTART) return true;
  return false;
}

}  // namespace

void observe_wal_position(core::LocalObservation* o) {
  o->in_recovery = RecoveryInProgress();
  if (o->in_recovery) {
    observe_replica_position(o);
  } else {
    TimeLineID tli = 0;
    o->flush_lsn = GetFlushRecPtr(&tli);
    o->timeline = tli;
    o->replay_lsn = o->flush_lsn;
  }
}

LocalDetails observe_local() {
  LocalDetails d;
  core::LocalObservation& o = d.observation;
  o.postgres_running = true;   // we run inside it
  observe_wal_position(&o);
  if (o.in_recovery) {
    o.promote_in_progress = PromoteIsTriggered() || access(PROMOTE_SIGNAL_FILE, F_OK) == 0;
    ReceiverView r = observe_receiver();
    o.receiver_streaming = r.streaming;
    d.receiver_state = r.state;
    d.sender_host = r.sender_host;
    d.sender_port = r.sender_port;
  } else {
    o.standbys = connected_standbys();
    o.timeline_start_lsn = timeline_start(o.timeline);
  }
  o.synchronous_standby_names = SyncRepStandbyNames ? SyncRepStandbyNames : "";
  o.pending_restart = any_guc_pending_restart();
  o.system_identifier = GetSystemIdentifier();
  return d;
}

}  // namespace pg_ha::worker
