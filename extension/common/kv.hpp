// The key-value model shared by the etcd client, the core and the simulator's fake etcd: etcd v3
// semantics (revisions, compares, transactions) with plain strings, no base64, no transport.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pg_ha::kv {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

enum class CompareTarget { Version, CreateRevision, ModRevision, Value, Lease };
enum class CompareResult { Equal, Greater, Less, NotEqual };

// One etcd compare. With range_end set it must hold for every key in [key, range_end) (etcd 3.3+).
struct Compare {
  std::string key;
  std::string range_end;
  CompareTarget target = CompareTarget::ModRevision;
  CompareResult result = CompareResult::Equal;
  int64_t number = 0;   // for Version, CreateRevision, ModRevision, Lease
  std::string value;    // for Value

  static Compare absent(std::string key);                          // create_revision == 0
  static Compare mod_revision_is(std::string key, int64_t rev);     // mod_revision == rev
  static Compare value_is(std::string key, std::string value);
  static Compare lease_is(std::string key, int64_t lease);
  static Compare prefix_unchanged_since(std::string prefix, int64_t rev);  // every mod_revision <= rev
};

struct RequestOp {
  enum class Kind { Put, DeleteRange, Range };
  Kind kind = Kind::Put;
  std::string key;
  std::string range_end;  // DeleteRange/Range: empty = single key
  std::string value;      // Put
  int64_t lease = 0;      // Put: 0 = no lease
  bool prev_kv = false;

  static RequestOp put(std::string key, std::string value, int64_t lease = 0);
  static RequestOp del(std::string key);
  static RequestOp del_prefix(const std::string& prefix);
  static RequestOp get(std::string key);
  static RequestOp get_prefix(const std::string& prefix);
};

struct Txn {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct ResponseOp {
  RequestOp::Kind kind = RequestOp::Kind::Put;
  std::vector<KeyValue> kvs;   // Range results, or prev_kv of a Put/DeleteRange
  int64_t deleted = 0;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::vector<ResponseOp> responses;
};

// Every key under a prefix, read at one revision (the agent's reads and the SQL functions').
struct PrefixSnapshot {
  int64_t revision = 0;
  std::vector<KeyValue> kvs;
};

// The smallest key greater than every key starting with prefix (etcd's range_end for a prefix).
std::string prefix_end(const std::string& prefix);

// Evaluates one compare against the current value of one key (nullptr = key absent), exactly as
// etcd does: an absent key has create/mod revision, version and lease 0, and a Value compare on
// it fails. A ranged compare holds when it holds for every existing key in the range (none: true).
bool compare_holds(const Compare& c, const KeyValue* kv);

}  // namespace pg_ha::kv
