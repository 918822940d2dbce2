#include "agent/view_cache.hpp"

#include <algorithm>

#include "common/no_postgres.hpp"

namespace pg_ha::agent {

void ViewCache::reset(int64_t revision, std::vector<kv::KeyValue> kvs) {
  kvs_.clear();
  for (kv::KeyValue& kv : kvs) {
    std::string key = kv.key;
    kvs_[key] = std::move(kv);
  }
  revision_ = revision;
  valid_ = true;
}

void ViewCache::apply(const std::vector<WatchChange>& changes, int64_t through_revision) {
  if (!valid_) return;
  for (const WatchChange& c : changes) {
    if (c.kv.mod_revision <= revision_) continue;
    if (c.deleted) {
      kvs_.erase(c.kv.key);
    } else {
      kvs_[c.kv.key] = c.kv;
    }
  }
  int64_t newest = through_revision;
  for (const WatchChange& c : changes) newest = std::max(newest, c.kv.mod_revision);
  revision_ = std::max(revision_, newest);
}

std::vector<kv::KeyValue> ViewCache::kvs() const {
  std::vector<kv::KeyValue> out;
  out.reserve(kvs_.size());
  for (const auto& [key, kv] : kvs_) out.push_back(kv);
  return out;
}

}  // namespace pg_ha::agent
