#include "etcd/types.hpp"

#include <utility>

#include "common/no_postgres.hpp"

namespace pg_ha::etcd {

RangeRequest RangeRequest::single(std::string key) {
  RangeRequest r;
  r.key = std::move(key);
  return r;
}

RangeRequest RangeRequest::prefix(const std::string& prefix) {
  RangeRequest r;
  r.key = prefix;
  r.range_end = kv::prefix_end(prefix);
  return r;
}

DeleteRequest DeleteRequest::single(std::string key) {
  DeleteRequest r;
  r.key = std::move(key);
  return r;
}

DeleteRequest DeleteRequest::prefix(const std::string& prefix) {
  DeleteRequest r;
  r.key = prefix;
  r.range_end = kv::prefix_end(prefix);
  return r;
}

WatchRequest WatchRequest::prefix(const std::string& prefix, int64_t start_revision) {
  WatchRequest r;
  r.key = prefix;
  r.range_end = kv::prefix_end(prefix);
  r.start_revision = start_revision;
  return r;
}

}  // namespace pg_ha::etcd
