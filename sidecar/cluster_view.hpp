// What the sidecar reads from etcd: the initialize record, where the leader can be reached, the
// dynamic config and the pause flag, and this node's lease. Thin, typed wrappers over Store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "common/result.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "pg_ops.hpp"
#include "store.hpp"

namespace pg_ha::sidecar {

// The state folder's record of revokes sent without an answer yet (ClusterView::keep_revokes_in).
constexpr const char* kUnansweredRevokes = "lease-revokes.unanswered";

class ClusterView {
 public:
  ClusterView(Store& store, const SidecarConfig& config)
      : store_(store), keys_(config.key_prefix, config.cluster), self_(config.name) {}

  const core::Keys& keys() const { return keys_; }
  // This node's identity (NodeIdentity::member_id), once bootstrap has it: leases of a member
  // record with another identity are never revoked as ours.
  void set_member_id(std::string id) { member_id_ = std::move(id); }
  const std::string& member_id() const { return member_id_; }
  Store& store() { return store_; }

  Result<std::optional<core::Versioned<core::InitializeRecord>>> initialize();
  // The leader's name, or "" when there is none.
  Result<std::string> leader_name();
  // The leader as an upstream, once its member record says where it listens (nullopt otherwise).
  Result<std::optional<Upstream>> leader_upstream();
  // A member's record (nullopt when its key is absent, i.e. not live).
  Result<std::optional<core::Versioned<core::MemberRecord>>> member(const std::string& name);
  // A member's address (for requests that name only the member).
  Result<std::optional<Upstream>> member_upstream(const std::string& name);
  // The dynamic config (defaults when the key is missing) and the pause flag.
  Result<core::ClusterConfig> config();
  Result<bool> paused();
  // Revokes this node's lease (members/<name>.lease_id, and the leader key's lease when it names
  // us): the election starts now instead of after the ttl. Returns the number of leases revoked.
  // Also retries every earlier revoke that got no answer.
  Result<int> revoke_own_lease();
  // A revoke was sent and etcd has not answered it yet (timeout, lost connection): it may still
  // land at any time. Postgres must not start meanwhile, or its new worker could adopt the lease
  // and serve under it until the late revoke ends it before the worker's deadline (FINDINGS F11).
  bool revoke_unanswered() const { return !unanswered_revokes_.empty() || revoke_own_at_start_; }
  // Keeps that record in `path` too, written before a revoke is sent and removed once all are
  // answered, and loads what a previous sidecar left there: a sidecar restarted while its revoke
  // was in flight must wait for an answer just the same (FINDINGS F21). A record that cannot be
  // read as lease ids makes the next revoke_own_lease count for it. With a path, a revoke whose
  // record cannot be written is not sent: the lease then ends with its ttl.
  void keep_revokes_in(std::string path);
  // Forgets every unanswered revoke and removes the record: for a record found stale.
  Status forget_revokes();

 private:
  Result<std::optional<kv::KeyValue>> get(const std::string& key) { return store_.get(key); }
  Result<std::set<int64_t>> own_leases();

  Store& store_;
  core::Keys keys_;
  std::string self_;
  std::string member_id_;
  Status record_revokes(const std::set<int64_t>& ids);

  std::set<int64_t> unanswered_revokes_;
  std::string revokes_path_;
  std::set<int64_t> recorded_;      // what revokes_path_ holds
  bool revoke_own_at_start_ = false;  // the record was there, but without a lease id it could read
};

}  // namespace pg_ha::sidecar
