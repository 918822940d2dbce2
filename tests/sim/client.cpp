#include "client.hpp"

#include "checkers.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

// Client sessions: each writes one row at a time and waits for its acknowledgement.
constexpr size_t kSessions = 4;

std::vector<StandbyFlush> streaming_standbys(const World& w, int n) {
  std::vector<StandbyFlush> out;
  for (const Node& r : w.nodes) {
    if (r.index != n && r.pg.running && r.pg.in_recovery && r.pg.streaming && r.pg.streaming_from == n) {
      out.push_back(StandbyFlush{r.stream_name(), r.pg.wal.flush});
    }
  }
  return out;
}

namespace {

// The fence's check at XACT_EVENT_COMMIT (extension/pg/fence.cpp): the end of a commit is
// acknowledged only while the write deadline still holds; otherwise the session ends without an
// acknowledgement. The canary leaves it out (the code before issue 12 checked only PRE_COMMIT).
bool acknowledge(World& w, const PendingCommit& c, bool sync) {
  if (w.sc.sim_canary != "no-commit-check" && !can_commit(w, c.node)) {
    w.log(c.node, "pg: a commit reached its end after the write deadline: session ended, not acknowledged");
    return false;
  }
  check_ack_by_writer(w, c.node);
  on_ack(w, c.timeline, c.lsn, sync);
  return true;
}

bool backend_alive(const World& w, const PendingCommit& c) {
  const Node& p = w.nodes[static_cast<size_t>(c.node)];
  return p.up && p.pg.running && p.pg.incarnation == c.pg_incarnation;
}

// After its commit record is flushed: synchronous commits wait for their standbys, asynchronous
// ones end (and are acknowledged) now.
void commit_flushed(World& w, const PendingCommit& c) {
  if (!parse_ssn(w.node(c.node).pg.synchronous_standby_names).sync) {
    acknowledge(w, c, false);
    return;
  }
  w.client.waiting.push_back(c);
}

// A commit stalled between its pre-commit check and its commit record (a slow fsync, a SIGSTOP):
// it goes on once the stall is over and its machine runs.
void finish_stalled(World& w, PendingCommit c) {
  if (!backend_alive(w, c)) {
    w.client.stalled -= 1;
    return;
  }
  if (w.node(c.node).suspended_at_ms >= 0) {
    w.q.after(10, [&w, c] { finish_stalled(w, c); });
    return;
  }
  w.client.stalled -= 1;
  commit_flushed(w, c);
}

}  // namespace

void client_write(World& w) {
  int through = -1;
  for (const Node& x : w.nodes) {
    if (can_commit(w, x.index)) {
      through = x.index;
      break;
    }
  }
  if (through < 0 || w.client.waiting.size() + w.client.stalled >= kSessions) return;
  Node& p = w.node(through);
  p.pg.wal.flush += static_cast<Lsn>(w.rng.range(w.sc.commit_min_bytes, w.sc.commit_max_bytes));
  w.stats.commits += 1;
  PendingCommit c{through, p.pg.incarnation, p.pg.wal.timeline, p.pg.wal.flush, w.now()};
  if (w.sc.commit_stall_prob > 0 && w.rng.chance(w.sc.commit_stall_prob)) {
    w.client.stalled += 1;
    w.q.after(w.rng.range(1, w.sc.commit_stall_max_ms), [&w, c] { finish_stalled(w, c); });
    return;
  }
  commit_flushed(w, c);
}

void client_release(World& w) {
  if (w.client.waiting.empty()) return;
  std::vector<PendingCommit> still;
  std::vector<std::pair<PendingCommit, bool>> done;
  for (const PendingCommit& c : w.client.waiting) {
    if (!backend_alive(w, c)) continue;   // the backend died: no ack
    const Node& p = w.node(c.node);
    SyncRule rule = parse_ssn(p.pg.synchronous_standby_names);
    if (p.suspended_at_ms < 0 && sync_satisfied(rule, streaming_standbys(w, c.node), c.lsn)) {
      done.emplace_back(c, rule.sync);
    } else {
      still.push_back(c);
    }
  }
  w.client.waiting.swap(still);
  for (const auto& [c, sync] : done) acknowledge(w, c, sync);
}

}  // namespace pg_ha::sim
