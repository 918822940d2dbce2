// The status snapshot the worker publishes to shared memory for the SQL functions (format:
// docs/sql-api.md, "Status snapshot"). Pure C++: built from core types, no PostgreSQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/decision.hpp"
#include "core/schema.hpp"
#include "worker/local_observation.hpp"

namespace pg_ha::worker {

constexpr int kSnapshotVersion = 1;

struct SnapshotInput {
  std::string cluster_name;
  core::NodeConfig node;
  LocalDetails local;
  bool standalone = false;
  bool fenced = false;
  std::string fence_reason;
  bool etcd_reachable = false;
  std::string etcd_error;                   // last etcd failure ("" when none)
  const core::EtcdView* view = nullptr;     // null: no view yet (or standalone)
  std::vector<core::HistoryRecord> history; // from the history/ keys, oldest first
  std::optional<core::Decision> decision;   // the last decision stepped
  int64_t decided_unix_ms = 0;
  int64_t now_unix_ms = 0;
};

std::string encode_snapshot(const SnapshotInput& in);

// History records decoded from the raw keys under keys.history_prefix() (bad ones skipped).
std::vector<core::HistoryRecord> history_from_kvs(const core::Keys& keys, const std::vector<kv::KeyValue>& kvs);

}  // namespace pg_ha::worker
