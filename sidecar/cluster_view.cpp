#include "cluster_view.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "common/atomic_file.hpp"
#include "log.hpp"
#include "process.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {

Result<std::optional<core::Versioned<core::InitializeRecord>>> ClusterView::initialize() {
  auto kv = get(keys_.initialize());
  if (!kv) return kv.error();
  if (!*kv) return std::optional<core::Versioned<core::InitializeRecord>>();
  auto rec = core::decode_initialize((*kv)->value);
  if (!rec) return rec.error();
  core::Versioned<core::InitializeRecord> v{*rec, (*kv)->create_revision, (*kv)->mod_revision, (*kv)->lease};
  return std::optional<core::Versioned<core::InitializeRecord>>(v);
}

Result<std::string> ClusterView::leader_name() {
  auto kv = get(keys_.leader());
  if (!kv) return kv.error();
  if (!*kv) return std::string();
  auto rec = core::decode_leader((*kv)->value);
  if (!rec) return rec.error();
  return rec->name;
}

Result<std::optional<core::Versioned<core::MemberRecord>>> ClusterView::member(const std::string& name) {
  auto kv = get(keys_.member(name));
  if (!kv) return kv.error();
  if (!*kv) return std::optional<core::Versioned<core::MemberRecord>>();
  auto m = core::decode_member((*kv)->value);
  if (!m) return m.error();
  core::Versioned<core::MemberRecord> v{*m, (*kv)->create_revision, (*kv)->mod_revision, (*kv)->lease};
  return std::optional<core::Versioned<core::MemberRecord>>(v);
}

Result<std::optional<Upstream>> ClusterView::member_upstream(const std::string& name) {
  auto kv = get(keys_.member(name));
  if (!kv) return kv.error();
  if (!*kv) return std::optional<Upstream>();
  auto m = core::decode_member((*kv)->value);
  if (!m) return m.error();
  if (m->host.empty() || m->port <= 0) return std::optional<Upstream>();
  return std::optional<Upstream>(Upstream{name, m->host, m->port});
}

Result<std::optional<Upstream>> ClusterView::leader_upstream() {
  auto name = leader_name();
  if (!name) return name.error();
  if (name->empty()) return std::optional<Upstream>();
  return member_upstream(*name);
}

Result<core::ClusterConfig> ClusterView::config() {
  auto kv = get(keys_.config());
  if (!kv) return kv.error();
  if (!*kv) return core::ClusterConfig{};
  return core::parse_cluster_config((*kv)->value);
}

Result<bool> ClusterView::paused() {
  auto kv = get(keys_.state());
  if (!kv) return kv.error();
  if (!*kv) return false;
  auto st = core::decode_state((*kv)->value);
  if (!st) return st.error();
  return st->paused;
}

Result<std::set<int64_t>> ClusterView::own_leases() {
  std::set<int64_t> leases;
  auto member = get(keys_.member(self_));
  if (!member) return member.error();
  if (*member) {
    auto m = core::decode_member((*member)->value);
    if (m && !m->member_id.empty() && !member_id_.empty() && m->member_id != member_id_) {
      return make_error(ErrorKind::Invalid, "members/" + self_ + " belongs to another node (identity " + m->member_id +
                                                "): not revoking its lease");
    }
    if ((*member)->lease) leases.insert((*member)->lease);
    if (m && m->lease_id) leases.insert(m->lease_id);
  }
  auto leader = get(keys_.leader());
  if (!leader) return leader.error();
  if (*leader && (*leader)->lease) {
    auto l = core::decode_leader((*leader)->value);
    if (l && l->name == self_) leases.insert((*leader)->lease);
  }
  return leases;
}

void ClusterView::keep_revokes_in(std::string path) {
  revokes_path_ = std::move(path);
  auto text = read_whole_file(revokes_path_);
  if (!text) return;   // none: no revoke in flight
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    char* end = nullptr;
    long long id = std::strtoll(line.c_str(), &end, 10);
    if (id <= 0 || *end != '\0') {
      revoke_own_at_start_ = true;
      continue;
    }
    recorded_.insert(id);
  }
  if (revoke_own_at_start_)
    log_warn(revokes_path_ + " holds something else than lease ids: revoking this node's own leases before postgres starts");
  unanswered_revokes_.insert(recorded_.begin(), recorded_.end());
  if (recorded_.empty()) revoke_own_at_start_ = true;   // a record without ids is still a record
}

Status ClusterView::forget_revokes() {
  unanswered_revokes_.clear();
  Status s = record_revokes({});
  if (s) revoke_own_at_start_ = false;
  return s;
}

Status ClusterView::record_revokes(const std::set<int64_t>& ids) {
  if (revokes_path_.empty() || (ids == recorded_ && !revoke_own_at_start_)) return ok_status();
  if (ids.empty()) {
    if (unlink(revokes_path_.c_str()) != 0 && errno != ENOENT)
      return make_error(ErrorKind::Internal, "cannot remove " + revokes_path_ + ": " + std::strerror(errno));
  } else {
    std::string text;
    for (int64_t id : ids) text += std::to_string(id) + "\n";
    Status s = files::write_atomically(revokes_path_, text);
    if (!s) return s;
  }
  recorded_ = ids;
  return ok_status();
}

// A revoke without an answer is retried by id even when the keys no longer show its lease (it
// may have landed, or be about to): only an answer, revoked or not found, ends it. Each is on
// record before it is sent, so that a restarted sidecar knows it may still land.
Result<int> ClusterView::revoke_own_lease() {
  auto found = own_leases();
  std::set<int64_t> leases = unanswered_revokes_;
  if (found) leases.insert(found->begin(), found->end());
  std::set<int64_t> to_record = recorded_;
  to_record.insert(leases.begin(), leases.end());
  Status recorded = record_revokes(to_record);
  if (!recorded) return make_error(recorded.error().kind, "not revoking (the lease ends with its ttl): " + recorded.error().message);
  int revoked = 0;
  std::optional<Error> failed;
  for (int64_t id : leases) {
    Status s = store_.lease_revoke(id);
    if (s || s.error().kind == ErrorKind::NotFound) {
      unanswered_revokes_.erase(id);
      if (s) ++revoked;
      continue;
    }
    unanswered_revokes_.insert(id);
    failed = s.error();
  }
  Status left = record_revokes(unanswered_revokes_);
  if (!left) log_warn(left.error().message + ": a restarted sidecar revokes again before postgres starts");
  if (found && !failed && left) revoke_own_at_start_ = false;
  if (!found) return found.error();
  if (failed) return *failed;
  return revoked;
}

}  // namespace pg_ha::sidecar
