// Building a node's EtcdView is the simulator's hot spot (every watch event of every node
// re-parses every key). build_view files each key on its own, so we parse each (key,
// mod_revision) once for the whole run and merge the parsed pieces per node. A key the merge
// does not understand (a field added to EtcdView later) makes us fall back to build_view.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/schema.hpp"

namespace pg_ha::sim {

class ViewCache {
 public:
  // kvs: a worker's keys by name (no copy into a vector unless the merge falls back).
  core::EtcdView build(const core::Keys& keys, const std::map<std::string, kv::KeyValue>& kvs, int64_t revision);

 private:
  const core::EtcdView& piece(const core::Keys& keys, const kv::KeyValue& kv);
  // (mod_revision, key): the revision first, so most lookups compare a number, not a key.
  std::map<std::pair<int64_t, std::string>, core::EtcdView> pieces_;
};

}  // namespace pg_ha::sim
