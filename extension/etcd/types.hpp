// Requests and results of the etcd v3 operations that kv.hpp does not already model.
// Plain strings everywhere: base64 and int64-as-string live only in the codec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/kv.hpp"

namespace pg_ha::etcd {

struct RangeRequest {
  std::string key;
  std::string range_end;      // empty = the single key; kv::prefix_end(p) = every key under p
  int64_t revision = 0;       // 0 = latest
  int64_t limit = 0;          // 0 = no limit
  bool serializable = false;  // false = linearizable (the default: reads that decide must be)
  bool keys_only = false;
  bool count_only = false;

  static RangeRequest single(std::string key);
  static RangeRequest prefix(const std::string& prefix);
};

struct RangeResult {
  int64_t revision = 0;  // store revision when the read was served
  std::vector<kv::KeyValue> kvs;
  int64_t count = 0;     // keys in the range (may exceed kvs.size() with a limit)
  bool more = false;
};

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;          // 0 = no lease (a put without lease detaches the key from its lease)
  bool prev_kv = false;
  bool ignore_lease = false;  // keep the key's current lease
};

struct PutResult {
  int64_t revision = 0;
  std::optional<kv::KeyValue> prev_kv;
};

struct DeleteRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;

  static DeleteRequest single(std::string key);
  static DeleteRequest prefix(const std::string& prefix);
};

struct DeleteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<kv::KeyValue> prev_kvs;
};

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl_s = 0;
};

struct LeaseKeepAlive {
  int64_t id = 0;
  int64_t ttl_s = 0;     // remaining TTL after the renewal
  int64_t revision = 0;  // store revision the answering member had applied
};

struct LeaseTimeToLive {
  int64_t id = 0;
  int64_t ttl_s = 0;          // remaining
  int64_t granted_ttl_s = 0;
  std::vector<std::string> keys;
  int64_t revision = 0;       // header: the answering member's store revision
};

enum class EventType { Put, Delete };

struct WatchEvent {
  EventType type = EventType::Put;
  kv::KeyValue kv;                      // for Delete: key and mod_revision (the delete's revision)
  std::optional<kv::KeyValue> prev_kv;  // only when the watch asked for prev_kv
};

struct WatchRequest {
  std::string key;
  std::string range_end;
  int64_t start_revision = 0;  // 0 = from now on
  bool prev_kv = false;

  static WatchRequest prefix(const std::string& prefix, int64_t start_revision = 0);
};

// One line of the /v3/watch stream, decoded.
struct WatchMessage {
  int64_t header_revision = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // > 0: the requested start revision was compacted away
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

}  // namespace pg_ha::etcd
