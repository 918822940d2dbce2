#include "common/kv.hpp"

#include <utility>

#include "common/no_postgres.hpp"

namespace pg_ha::kv {

Compare Compare::absent(std::string key) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::CreateRevision;
  c.result = CompareResult::Equal;
  c.number = 0;
  return c;
}

Compare Compare::mod_revision_is(std::string key, int64_t rev) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::ModRevision;
  c.result = CompareResult::Equal;
  c.number = rev;
  return c;
}

Compare Compare::value_is(std::string key, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::Value;
  c.result = CompareResult::Equal;
  c.value = std::move(value);
  return c;
}

Compare Compare::lease_is(std::string key, int64_t lease) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::Lease;
  c.result = CompareResult::Equal;
  c.number = lease;
  return c;
}

Compare Compare::prefix_unchanged_since(std::string prefix, int64_t rev) {
  Compare c;
  c.range_end = prefix_end(prefix);
  c.key = std::move(prefix);
  c.target = CompareTarget::ModRevision;
  c.result = CompareResult::Less;
  c.number = rev + 1;
  return c;
}

RequestOp RequestOp::put(std::string key, std::string value, int64_t lease) {
  RequestOp op;
  op.kind = Kind::Put;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return op;
}

RequestOp RequestOp::del(std::string key) {
  RequestOp op;
  op.kind = Kind::DeleteRange;
  op.key = std::move(key);
  return op;
}

RequestOp RequestOp::del_prefix(const std::string& prefix) {
  RequestOp op = del(prefix);
  op.range_end = prefix_end(prefix);
  return op;
}

RequestOp RequestOp::get(std::string key) {
  RequestOp op;
  op.kind = Kind::Range;
  op.key = std::move(key);
  return op;
}

RequestOp RequestOp::get_prefix(const std::string& prefix) {
  RequestOp op = get(prefix);
  op.range_end = prefix_end(prefix);
  return op;
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // etcd: "\0" means "all keys"
}

template <class T>
static bool compare_numbers(CompareResult r, T lhs, T rhs) {
  switch (r) {
    case CompareResult::Equal: return lhs == rhs;
    case CompareResult::Greater: return lhs > rhs;
    case CompareResult::Less: return lhs < rhs;
    case CompareResult::NotEqual: return lhs != rhs;
  }
  return false;
}

bool compare_holds(const Compare& c, const KeyValue* kv) {
  static const KeyValue kAbsent;
  if (kv == nullptr && c.target == CompareTarget::Value) return false;  // etcd: no value to compare
  const KeyValue& v = kv ? *kv : kAbsent;
  switch (c.target) {
    case CompareTarget::Version: return compare_numbers(c.result, v.version, c.number);
    case CompareTarget::CreateRevision: return compare_numbers(c.result, v.create_revision, c.number);
    case CompareTarget::ModRevision: return compare_numbers(c.result, v.mod_revision, c.number);
    case CompareTarget::Lease: return compare_numbers(c.result, v.lease, c.number);
    case CompareTarget::Value: return compare_numbers(c.result, v.value, c.value);
  }
  return false;
}

}  // namespace pg_ha::kv
