#include "client.hpp"

#include "checkers.hpp"
#include "world.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

// Client sessions: each writes one row at a time and waits for its acknowledgement.
constexpr size_t kSessions = 4;

std::vector<StandbyFlush> streaming_standbys(const World& w, int n) {
  std::vector<StandbyFlush> out;
  const std::string& name = w.nodes[static_cast<size_t>(n)].config.name;
  for (const Node& r : w.nodes) {
    if (r.index != n && r.pg.running && r.pg.in_recovery && r.pg.streaming && r.pg.upstream == name) {
      out.push_back(StandbyFlush{r.config.name, r.pg.wal.flush});
    }
  }
  return out;
}

void client_write(World& w) {
  int through = -1;
  for (const Node& x : w.nodes) {
    if (can_commit(w, x.index)) {
      through = x.index;
      break;
    }
  }
  if (through < 0 || w.client.waiting.size() >= kSessions) return;
  Node& p = w.node(through);
  p.pg.wal.flush += static_cast<Lsn>(w.rng.range(w.sc.commit_min_bytes, w.sc.commit_max_bytes));
  w.stats.commits += 1;
  PendingCommit c{through, p.pg.incarnation, p.pg.wal.timeline, p.pg.wal.flush, w.now()};
  if (!parse_ssn(p.pg.synchronous_standby_names).sync) {
    on_ack(w, c.timeline, c.lsn, false);
    return;
  }
  w.client.waiting.push_back(c);
}

void client_release(World& w) {
  if (w.client.waiting.empty()) return;
  std::vector<PendingCommit> still;
  for (const PendingCommit& c : w.client.waiting) {
    const Node& p = w.node(c.node);
    if (!p.pg.running || p.pg.incarnation != c.pg_incarnation) continue;   // the backend died: no ack
    SyncRule rule = parse_ssn(p.pg.synchronous_standby_names);
    if (sync_satisfied(rule, streaming_standbys(w, c.node), c.lsn)) {
      on_ack(w, c.timeline, c.lsn, rule.sync);
    } else {
      still.push_back(c);
    }
  }
  w.client.waiting.swap(still);
}

}  // namespace pg_ha::sim
