// A Store for the sidecar's unit tests: keys in a map, lease revokes answered from a script.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster_view.hpp"
#include "config.hpp"
#include "core/schema.hpp"

namespace pg_ha::sidecar {

// Keys in a map; each lease_revoke takes its answer from a script (default: revoked).
class ScriptedStore : public Store {
 public:
  std::map<std::string, kv::KeyValue> keys;
  std::deque<Status> revoke_answers;
  std::vector<int64_t> revoked;   // every revoke sent, answered or not
  bool reads_fail = false;
  std::function<void(int64_t)> before_revoke;   // sees the world as the revoke leaves

  Result<std::optional<kv::KeyValue>> get(const std::string& key) override {
    if (reads_fail) return make_error(ErrorKind::Unavailable, "no endpoint");
    auto it = keys.find(key);
    if (it == keys.end()) return std::optional<kv::KeyValue>();
    return std::optional<kv::KeyValue>(it->second);
  }
  Result<kv::TxnResult> txn(const kv::Txn&) override { return make_error(ErrorKind::Internal, "unused"); }
  Result<int64_t> lease_grant(int64_t) override { return make_error(ErrorKind::Internal, "unused"); }
  Status lease_keepalive(int64_t) override { return make_error(ErrorKind::Internal, "unused"); }
  Status lease_revoke(int64_t lease_id) override {
    if (before_revoke) before_revoke(lease_id);
    revoked.push_back(lease_id);
    Status s = ok_status();
    if (!revoke_answers.empty()) {
      s = revoke_answers.front();
      revoke_answers.pop_front();
    }
    if (s) erase_on(lease_id);
    return s;
  }

 private:
  void erase_on(int64_t lease) {
    for (auto it = keys.begin(); it != keys.end();) it = it->second.lease == lease ? keys.erase(it) : std::next(it);
  }
};

inline SidecarConfig config_for(const std::string& name) {
  SidecarConfig c;
  c.name = name;
  c.cluster = "c";
  return c;
}

inline void put_member(ScriptedStore& s, const ClusterView& v, const std::string& name, int64_t lease) {
  core::MemberRecord m;
  m.name = name;
  m.lease_id = lease;
  kv::KeyValue kv;
  kv.key = v.keys().member(name);
  kv.value = core::encode(m);
  kv.lease = lease;
  s.keys[kv.key] = kv;
}

}  // namespace pg_ha::sidecar
