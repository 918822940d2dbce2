#include "agent/agent.hpp"

#include <algorithm>

#include "agent/files.hpp"
#include "agent/snapshot.hpp"
#include "core/sidecar_channel.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

namespace {
// A txn that wrote something changes the world the core reasons about: step again at once, but
// never loop unboundedly within one iteration.
constexpr int kMaxStepsPerIteration = 4;
// Name of the marker the sidecar drops while it restarts PostgreSQL on purpose: the worker then
// keeps its lease on shutdown, and the restarted worker adopts it (no failover for a restart).
constexpr const char* kRestartMarker = "sidecar.restarting";
}  // namespace

Agent::Agent(AgentSettings settings, EtcdPort& etcd, LocalPort& local)
    : settings_(std::move(settings)), keys_(settings_.key_prefix, settings_.cluster), etcd_(etcd), local_(local) {
  settings_.replication.application_name = settings_.node.name;
}

void Agent::run() {
  local_.log(LogLevel::Info, "pg_ha: agent started for node \"" + settings_.node.name + "\" in cluster \"" +
                                 settings_.cluster + "\"");
  while (!local_.should_stop()) {
    int wait_ms = iterate();
    if (wait_ms <= 0 || local_.should_stop()) continue;
    auto changed = etcd_.wait_for_change(keys_.root(), view_valid_ ? view_.revision : 0, wait_ms);
    if (!changed.ok() || *changed) view_stale_ = true;
  }
  bool restarting = read_file(settings_.state_dir + "/" + kRestartMarker).ok();
  if (restarting) {
    local_.log(LogLevel::Info, "pg_ha: stopping for a restart by the sidecar: keeping the lease");
    return;
  }
  release_leadership("the server is shutting down");
}

void Agent::release_leadership(const std::string& why) {
  if (lease_.id == 0) return;
  Status s = etcd_.lease_revoke(lease_.id);
  local_.log(s.ok() ? LogLevel::Info : LogLevel::Warning,
             s.ok() ? "pg_ha: released the lease (" + why + ")"
                    : "pg_ha: could not release the lease (" + why + "): " + s.error().message);
  lease_ = core::LeaseObservation{};
}

// The lease outlives a worker restart: adopt the one our member record names, so a restarted
// primary keeps `leader` instead of waiting for its old lease to expire.
void Agent::maintain_lease(int64_t now) {
  if (lease_.id == 0 && !lease_adoption_tried_ && view_valid_) {
    lease_adoption_tried_ = true;
    auto m = view_.members.find(settings_.node.name);
    if (m != view_.members.end() && m->second.value.lease_id != 0) {
      int64_t sent = local_.monotonic_ms();
      if (etcd_.lease_keepalive(m->second.value.lease_id).ok()) {
        lease_.id = m->second.value.lease_id;
        lease_.last_ok_sent_ms = sent;
        last_keepalive_attempt_ms_ = sent;
        local_.log(LogLevel::Info, "pg_ha: adopted lease " + std::to_string(lease_.id) + " from the previous worker");
        return;
      }
    }
  }
  if (lease_.id == 0) {
    if (!view_valid_) return;  // first learn whether there is a lease to adopt
    int64_t sent = local_.monotonic_ms();
    auto granted = etcd_.lease_grant(config_.ttl_s);
    last_keepalive_attempt_ms_ = sent;
    if (!granted.ok()) {
      etcd_error_ = granted.error().message;
      return;
    }
    lease_.id = *granted;
    lease_.last_ok_sent_ms = sent;
    return;
  }
  if (last_keepalive_attempt_ms_ >= 0 && now - last_keepalive_attempt_ms_ < config_.loop_wait_ms) return;
  int64_t sent = local_.monotonic_ms();
  last_keepalive_attempt_ms_ = sent;
  Status s = etcd_.lease_keepalive(lease_.id);
  if (s.ok()) {
    lease_.last_ok_sent_ms = sent;
  } else if (s.error().kind == ErrorKind::NotFound) {
    local_.log(LogLevel::Warning, "pg_ha: lease " + std::to_string(lease_.id) + " expired; granting a new one");
    lease_ = core::LeaseObservation{};
  } else {
    etcd_error_ = s.error().message;
  }
}

void Agent::refresh_view(int64_t now) {
  auto snap = etcd_.read_prefix(keys_.root());
  if (!snap.ok()) {
    etcd_error_ = snap.error().message;
    return;
  }
  view_ = core::build_view(keys_, snap->kvs, snap->revision);
  view_valid_ = true;
  view_stale_ = false;
  view_behind_write_ = false;
  view_ok_ms_ = now;
  etcd_error_.clear();
  core::ClusterConfig next = view_.config ? view_.config->value : core::ClusterConfig{};
  Status valid = core::validate_cluster_config(next);
  if (valid.ok()) {
    config_ = next;
  } else {
    local_.log(LogLevel::Warning, "pg_ha: ignoring the cluster config in etcd: " + valid.error().message);
  }
}

core::Observation Agent::observe(int64_t now) {
  core::Observation obs;
  obs.now_ms = now;
  obs.local = local_.observe();
  obs.local.upstream = following_ ? following_->name : "";
  auto result = read_file(settings_.state_dir + "/" + core::kSidecarResultFile);
  if (result.ok()) {
    auto decoded = core::decode_sidecar_result(*result);
    if (decoded.ok()) obs.local.sidecar_done_id = decoded->id;
  }
  obs.lease = lease_;
  obs.etcd_view_fresh = view_valid_ && !view_behind_write_ && now - view_ok_ms_ <= 2 * config_.loop_wait_ms;
  obs.etcd_view_ms = view_ok_ms_;
  obs.wall_clock_unix_ms = local_.wall_clock_unix_ms();
  return obs;
}

// The gate is published before any etcd write of the same decision: a hand-over must never be
// sent while this node could still commit.
void Agent::apply_gate(const core::Decision& d) {
  local_.publish_gate(d.write_deadline_ms, d.fenced, d.fence_reason);
  if (d.fenced && !fenced_published_) local_.terminate_client_backends();
  fenced_published_ = d.fenced;
}

bool Agent::execute_writes(const core::Decision& d) {
  bool any = false;
  for (const core::EtcdWrite& w : d.writes) {
    auto r = etcd_.txn(w.txn);
    if (!r.ok()) {
      etcd_error_ = r.error().message;
      local_.log(LogLevel::Warning, "pg_ha: etcd write \"" + w.what + "\" failed: " + r.error().message);
      view_stale_ = true;
      return any;
    }
    any = true;
    if (!r->succeeded) {
      local_.log(LogLevel::Debug, "pg_ha: etcd write \"" + w.what + "\" lost a compare; re-reading");
      view_stale_ = true;
      return any;
    }
    view_behind_write_ = true;
    if (w.what != "heartbeat") local_.log(LogLevel::Info, "pg_ha: " + w.what);
  }
  return any;
}

void Agent::write_sidecar_request(const core::SidecarRequest& r) {
  if (r.id == sidecar_request_id_) return;
  std::string path = settings_.state_dir + "/" + core::kSidecarRequestFile;
  auto existing = read_file(path);
  if (existing.ok()) {
    auto decoded = core::decode_sidecar_request(*existing);
    if (decoded.ok() && decoded->id == r.id) {
      sidecar_request_id_ = r.id;
      return;
    }
  }
  Status s = write_file_atomically(path, core::encode_sidecar_request(r));
  if (!s.ok()) {
    local_.log(LogLevel::Warning, "pg_ha: could not write the sidecar request: " + s.error().message);
    return;
  }
  sidecar_request_id_ = r.id;
  local_.log(LogLevel::Info, std::string("pg_ha: asked the sidecar to ") + core::sidecar_request_kind_name(r.kind) +
                                 (r.primary.empty() ? "" : " (primary " + r.primary + ")") + ": " + r.reason);
}

void Agent::apply_local_actions(const core::Decision& d) {
  if (d.promote && !promote_requested_) {
    local_.log(LogLevel::Info, "pg_ha: promoting: " + d.reason);
    local_.promote();
  }
  promote_requested_ = d.promote;
  if (d.follow) following_ = d.follow;
  if (d.synchronous_standby_names) synchronous_standby_names_ = *d.synchronous_standby_names;
  std::string conf = render_auto_conf(following_, settings_.replication, synchronous_standby_names_,
                                      config_.postgresql_parameters);
  if (conf != auto_conf_written_ && !settings_.state_dir.empty()) {
    Status s = write_file_atomically(settings_.state_dir + "/" + kAutoConfFile, conf);
    if (s.ok()) {
      auto_conf_written_ = conf;
      local_.reload_configuration();
    } else {
      local_.log(LogLevel::Warning, "pg_ha: could not write " + std::string(kAutoConfFile) + ": " + s.error().message);
    }
  }
  if (d.sidecar) write_sidecar_request(*d.sidecar);
}

void Agent::log_decision(const core::Decision& d) {
  if (d.reason == last_logged_reason_) return;
  last_logged_reason_ = d.reason;
  local_.log(LogLevel::Info, "pg_ha: " + d.state + ": " + d.reason);
}

void Agent::publish_snapshot(const core::Decision& d, const core::Observation& obs) {
  bool reachable = view_valid_ && obs.now_ms - view_ok_ms_ <= 2 * config_.loop_wait_ms;
  SnapshotInput in{settings_.node, config_, view_valid_ ? &view_ : nullptr, obs, d, reachable, etcd_error_};
  local_.publish_snapshot(render_snapshot(in));
}

int Agent::iterate() {
  int64_t now = local_.monotonic_ms();
  if (view_stale_ || !view_valid_ || now - view_ok_ms_ >= config_.loop_wait_ms) refresh_view(now);
  maintain_lease(now);
  core::Decision last;
  core::Observation obs;
  for (int i = 0; i < kMaxStepsPerIteration; ++i) {
    now = local_.monotonic_ms();
    obs = observe(now);
    core::StepInput in{config_, settings_.node, keys_, view_, obs};
    core::StepOutput out = core::step(in, memory_);
    memory_ = out.memory;
    apply_gate(out.decision);
    bool wrote = view_valid_ && execute_writes(out.decision);
    apply_local_actions(out.decision);
    log_decision(out.decision);
    last = out.decision;
    if (!wrote || local_.should_stop()) break;
    refresh_view(local_.monotonic_ms());
  }
  publish_snapshot(last, obs);
  now = local_.monotonic_ms();
  int64_t next = std::min<int64_t>(last.wake_at_ms, last_keepalive_attempt_ms_ + config_.loop_wait_ms);
  return static_cast<int>(std::clamp<int64_t>(next - now, 0, config_.loop_wait_ms));
}

}  // namespace pg_ha::agent
