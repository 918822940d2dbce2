// Keeps this node listed while its PostgreSQL is down: the down/<name> key (core::DownRecord)
// under the sidecar's own lease. The worker's member record goes with the worker's lease about a
// ttl after postgres stops; without this key a node in a crash loop, with a full disk or stopped
// during a pause would simply vanish from members().
//
// The rule (docs/keys.md, "Down members"): the key exists while the sidecar runs and postgres is
// down. It is deleted once postgres accepts connections again, its lease is revoked when the
// sidecar stops, and it expires kDownLeaseTtlS after the sidecar itself died.
#pragma once

#include <cstdint>
#include <string>

#include "core/schema.hpp"
#include "store.hpp"

namespace pg_ha::sidecar {

constexpr int64_t kDownLeaseTtlS = 30;

class DownPublisher {
 public:
  DownPublisher(Store& store, core::Keys keys) : store_(store), keys_(std::move(keys)) {}
  ~DownPublisher() { clear(); }

  // Called on every turn while postgres is down: writes the record when it changed (at most once a
  // second) and keeps the lease alive. etcd errors are retried on later turns.
  void publish(const core::DownRecord& record, int64_t now_ms);
  // Postgres serves again, or the sidecar stops: the key goes (its lease is revoked).
  void clear();
  bool published() const { return !published_.empty(); }

 private:
  bool ensure_lease(int64_t now_ms);

  Store& store_;
  core::Keys keys_;
  int64_t lease_ = 0;
  int64_t next_keepalive_ms_ = 0;
  int64_t next_try_ms_ = 0;
  std::string published_;   // the value last written ("" = none)
};

}  // namespace pg_ha::sidecar
