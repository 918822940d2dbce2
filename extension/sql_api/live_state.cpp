#include <string>

#include "core/observation.hpp"
#include "pg/fence.hpp"
#include "worker/local_observation.hpp"
#include "pg/shmem.hpp"
#include "sql_api/live_state.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "replication/walreceiver.h"  // WalRcv state
}

namespace pg_ha::sql_api {

LiveState read_live_state() {
  LiveState s;
  core::LocalObservation position;
  worker::observe_wal_position(&position);
  s.role = position.in_recovery ? "replica" : "primary";
  s.timeline = position.timeline;
  s.flush_lsn = position.flush_lsn;
  s.replay_lsn = position.replay_lsn;
  char reason[pg::shmem::kFenceReasonCapacity + 64];
  s.fenced = pg::writes_refused(reason, sizeof reason);
  if (s.fenced) s.fence_reason = reason;
  if (s.role == "replica" && WalRcv) {
    // The worker's judgement (worker/local_observation.hpp), so /replica and members() agree.
    worker::ReceiverView r = worker::observe_receiver();
    s.receiver_state = r.streaming ? "streaming" : r.state == "stopped" || r.state == "silent" ? r.state : "connecting";
  }
  return s;
}

}  // namespace pg_ha::sql_api
