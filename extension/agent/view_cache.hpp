// The agent's copy of every key under the cluster prefix. A linearizable read seeds it and watch
// events keep it current, so an idle cluster costs etcd no reads (Patroni's etcd3 driver keeps a
// watch-fed cache for the same reason). Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/kv.hpp"

namespace pg_ha::agent {

struct WatchChange {
  bool deleted = false;
  kv::KeyValue kv;  // for a delete: the key and the delete's revision in mod_revision
};

class ViewCache {
 public:
  // Replaces the contents with a read served at `revision`.
  void reset(int64_t revision, std::vector<kv::KeyValue> kvs);
  // Applies watch events in revision order. Events the cache already holds (at or below its
  // revision, e.g. delivered by a watch that started before the last read) are skipped.
  // `through_revision` is the revision the watch has delivered everything up to.
  void apply(const std::vector<WatchChange>& changes, int64_t through_revision);

  bool valid() const { return valid_; }
  int64_t revision() const { return revision_; }
  std::vector<kv::KeyValue> kvs() const;

 private:
  bool valid_ = false;
  int64_t revision_ = 0;
  std::map<std::string, kv::KeyValue> kvs_;
};

}  // namespace pg_ha::agent
