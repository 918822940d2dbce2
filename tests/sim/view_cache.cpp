#include "view_cache.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

const core::EtcdView& ViewCache::piece(const core::Keys& keys, const kv::KeyValue& kv) {
  auto id = std::make_pair(kv.mod_revision, kv.key);
  auto it = pieces_.find(id);
  if (it != pieces_.end()) return it->second;
  if (pieces_.size() > 20000) pieces_.clear();
  return pieces_[id] = core::build_view(keys, {kv}, kv.mod_revision);
}

namespace {

template <class T>
bool take(std::optional<T>& into, const std::optional<T>& from) {
  if (!from) return false;
  into = from;
  return true;
}

// Merges one key's piece; false when the piece holds nothing we know how to merge.
bool merge(core::EtcdView& v, const core::EtcdView& p) {
  bool known = false;   // every take() runs: no short circuit
  known |= take(v.initialize, p.initialize);
  known |= take(v.config, p.config);
  known |= take(v.leader, p.leader);
  known |= take(v.state, p.state);
  known |= take(v.optime, p.optime);
  for (const auto& [k, m] : p.members) v.members[k] = m, known = true;
  for (const auto& [t, by] : p.reports) {
    for (const auto& [k, r] : by) v.reports[t][k] = r, known = true;
  }
  for (const auto& [t, h] : p.history) v.history[t] = h, known = true;
  for (const auto& [k, r] : p.restart_requests) v.restart_requests[k] = r, known = true;
  for (const std::string& s : p.problems) v.problems.push_back(s), known = true;
  return known;
}

}  // namespace

core::EtcdView ViewCache::build(const core::Keys& keys, const std::map<std::string, kv::KeyValue>& kvs, int64_t revision) {
  core::EtcdView v;
  v.revision = revision;
  for (const auto& [key, kv] : kvs) {
    if (key.compare(0, keys.root().size(), keys.root()) != 0) continue;
    if (!merge(v, piece(keys, kv))) {
      std::vector<kv::KeyValue> all;
      for (const auto& [k, value] : kvs) all.push_back(value);
      return core::build_view(keys, all, revision);
    }
  }
  return v;
}

}  // namespace pg_ha::sim
