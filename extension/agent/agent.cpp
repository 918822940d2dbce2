#include "agent/agent.hpp"

#include <algorithm>

#include "agent/files.hpp"
#include "agent/term_memory.hpp"
#include "core/hba.hpp"
#include "agent/snapshot.hpp"
#include "core/sidecar_channel.hpp"
#include "core/sync_names.hpp"
#include "core/takeover.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

namespace {
// A txn that wrote something changes the world the core reasons about: step again at once, but
// never loop unboundedly within one iteration.
constexpr int kMaxStepsPerIteration = 4;
// Name of the marker the sidecar drops while it restarts PostgreSQL on purpose: the worker then
// keeps its lease on shutdown, and the restarted worker adopts it (no failover for a restart).
constexpr const char* kRestartMarker = "sidecar.restarting";
// How often a worker that has never read etcd tries again.
constexpr int64_t kFirstViewRetryMs = 500;
// How long the watch may take to deliver this node's own write before the agent reads instead.
constexpr int64_t kCatchUpMs = 250;
}  // namespace

Agent::Agent(AgentSettings settings, EtcdPort& etcd, LocalPort& local)
    : settings_(std::move(settings)), keys_(settings_.key_prefix, settings_.cluster), etcd_(etcd), local_(local) {
  load_identity();
  settings_.replication.application_name = core::standby_application_name(settings_.node.name, settings_.node.member_id);
}

// The identity the sidecar made for this node (docs/keys.md); without one (no sidecar) the node
// only recognises records that have none either.
void Agent::load_identity() {
  if (!settings_.node.member_id.empty() || settings_.state_dir.empty()) return;
  auto text = read_file(settings_.state_dir + "/" + core::kIdentityFile);
  if (!text.ok()) return;
  auto identity = core::decode_identity(*text);
  if (identity.ok()) settings_.node.member_id = identity->member_id;
  else identity_error_ = identity.error().message;
}

void Agent::run() {
  local_.log(LogLevel::Info, "pg_ha: agent started for node \"" + settings_.node.name + "\" in cluster \"" +
                                 settings_.cluster + "\" with identity " +
                                 (settings_.node.member_id.empty() ? "(none)" : settings_.node.member_id));
  if (!identity_error_.empty()) local_.log(LogLevel::Warning, "pg_ha: ignoring the identity file: " + identity_error_);
  while (!local_.should_stop()) {
    int wait_ms = iterate();
    if (wait_ms <= 0 || local_.should_stop()) continue;
    absorb(etcd_.watch_changes(keys_.root(), cache_.revision(), wait_ms));
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
  lease_asked_ttl_s_ = 0;
  if (leftover_lease_ != 0) (void)etcd_.lease_revoke(leftover_lease_);
  leftover_lease_ = 0;
}

// The lease outlives a worker restart: adopt the one our member record names, so a restarted
// primary keeps `leader` instead of waiting for its old lease to expire. Only a record of our own
// identity: another node with our name must never lend us its lease (and with it `leader`).
void Agent::maintain_lease(int64_t now) {
  if (lease_.id == 0 && !lease_adoption_tried_ && cache_.valid()) {
    lease_adoption_tried_ = true;
    auto m = view_.members.find(settings_.node.name);
    if (m != view_.members.end() && m->second.value.lease_id != 0 &&
        m->second.value.member_id != settings_.node.member_id) {
      local_.log(LogLevel::Warning, "pg_ha: not adopting lease " + std::to_string(m->second.value.lease_id) +
                                        ": members/" + settings_.node.name + " has identity " +
                                        (m->second.value.member_id.empty() ? "(none)" : m->second.value.member_id));
    } else if (m != view_.members.end() && m->second.value.lease_id != 0) {
      int64_t sent = local_.monotonic_ms();
      auto adopted = etcd_.lease_keepalive(m->second.value.lease_id);
      if (adopted.ok()) {
        confirm_view(adopted->revision, sent);
        lease_ = core::LeaseObservation{m->second.value.lease_id, sent, adopted->ttl_s};
        lease_asked_ttl_s_ = adopted->ttl_s;   // a ttl changed since is applied by a re-grant
        last_keepalive_attempt_ms_ = sent;
        local_.log(LogLevel::Info, "pg_ha: adopted lease " + std::to_string(lease_.id) + " (ttl " +
                                       std::to_string(adopted->ttl_s) + " s) from the previous worker");
        return;
      }
    }
  }
  if (lease_.id == 0) {
    if (!cache_.valid()) return;  // first learn whether there is a lease to adopt
    int64_t sent = local_.monotonic_ms();
    auto granted = etcd_.lease_grant(config_.ttl_s);
    last_keepalive_attempt_ms_ = sent;
    if (!granted.ok()) {
      etcd_error_ = granted.error().message;
      return;
    }
    lease_ = core::LeaseObservation{granted->id, sent, granted->ttl_s};
    lease_asked_ttl_s_ = config_.ttl_s;
    return;
  }
  // A primary whose gate lapsed lets its lease fall silent on the core's request: a replica can
  // then see the silence and take over (a late keep-alive would hide it).
  bool due = last_keepalive_attempt_ms_ < 0 || now - last_keepalive_attempt_ms_ >= keepalive_interval_ms();
  if (due && !hold_keepalive_) {
    int64_t sent = local_.monotonic_ms();
    last_keepalive_attempt_ms_ = sent;
    auto s = etcd_.lease_keepalive(lease_.id);
    if (s.ok()) {
      lease_.last_ok_sent_ms = sent;
      lease_.granted_ttl_s = s->ttl_s;
      confirm_view(s->revision, sent);
    } else if (s.error().kind == ErrorKind::NotFound) {
      local_.log(LogLevel::Warning, "pg_ha: lease " + std::to_string(lease_.id) + " expired; granting a new one");
      lease_ = core::LeaseObservation{};
      return;
    } else {
      etcd_error_ = s.error().message;
      return;
    }
  }
  if (leftover_lease_ != 0) settle_leftover_lease();
  else if (lease_asked_ttl_s_ != config_.ttl_s) regrant_lease();
}

// A replica reads the leader's lease while the core asks for it, from the time the core says an
// answer could show the silence it waits for. The send time goes with the answer: the core counts
// the silence from it.
void Agent::read_leader_lease(int64_t now) {
  if (ttl_lease_wanted_ == 0 || now < next_ttl_read_ms()) return;
  int64_t sent = local_.monotonic_ms();
  last_ttl_read_ms_ = sent;
  auto r = etcd_.lease_time_to_live(ttl_lease_wanted_);
  if (r.ok()) {
    leader_lease_ = core::LeaseTtlReading{ttl_lease_wanted_, r->remaining_s, r->granted_s, r->revision, sent};
  } else if (r.error().kind == ErrorKind::NotFound) {
    leader_lease_ = core::LeaseTtlReading{ttl_lease_wanted_, -1, 0, 0, sent};
  }
}

int64_t Agent::next_ttl_read_ms() const {
  return last_ttl_read_ms_ < 0 ? ttl_read_at_ms_ : std::max(ttl_read_at_ms_, last_ttl_read_ms_ + core::kMinLeaseReadingGapMs);
}

// Closes the gate no later than `deadline_ms` without waiting for the next step (which a stalled
// or cut-off worker may not reach in time).
void Agent::clamp_gate(int64_t deadline_ms) {
  if (gate_deadline_ms_ <= deadline_ms) return;
  gate_deadline_ms_ = deadline_ms;
  local_.publish_gate(deadline_ms, fenced_published_, gate_reason_);
}

// Moves every cached key on lease `from_lease` onto `to_lease` in one txn that compares each key's
// mod_revision. True when moved (or nothing was on it), false when a compare failed; an error
// when the outcome is unknown.
Result<bool> Agent::move_keys(int64_t from_lease, int64_t to_lease) {
  kv::Txn move;
  for (const kv::KeyValue& k : cache_.kvs()) {
    if (k.lease != from_lease) continue;
    move.compare.push_back(kv::Compare::mod_revision_is(k.key, k.mod_revision));
    move.success.push_back(kv::RequestOp::put(k.key, k.value, to_lease));
  }
  if (move.success.empty()) return true;
  auto r = etcd_.txn(move);
  if (!r.ok()) return r.error();
  if (!r->succeeded) return false;
  written_revision_ = std::max(written_revision_, r->revision);
  return true;
}

// etcd renews a lease to the TTL it was granted with, so a new `ttl` needs a new lease. The keys
// on the old lease (member, leader, election report) move onto the new one in one compare txn
// before the old one is revoked: at no moment does one of them lack a live lease. Until the move
// the write deadline follows the old lease's granted TTL (write_deadline_after_keepalive); from
// the move on, the new lease's grant. If the move's outcome is unknown, the new lease is ours from
// now on: keys left on the old one make this node not hold `leader` (fenced) until they are moved.
void Agent::regrant_lease() {
  if (!cache_.valid() || view_stale_) return;   // the move compares against the cached keys
  int64_t sent = local_.monotonic_ms();
  auto granted = etcd_.lease_grant(config_.ttl_s);
  if (!granted.ok()) {
    etcd_error_ = granted.error().message;
    return;
  }
  // Once the move applies, `leader` lives only as long as the new lease, whether or not we hear
  // the answer: the gate must already close by the new lease's deadline.
  clamp_gate(core::write_deadline_after_keepalive(config_, sent, granted->ttl_s));
  auto moved = move_keys(lease_.id, granted->id);
  if (moved.ok() && !*moved) {   // something changed: nothing is on the new lease; retry on a fresh view
    (void)etcd_.lease_revoke(granted->id);
    view_stale_ = true;
    return;
  }
  int64_t old = lease_.id;
  lease_ = core::LeaseObservation{granted->id, sent, granted->ttl_s};
  lease_asked_ttl_s_ = config_.ttl_s;
  last_keepalive_attempt_ms_ = sent;
  local_.log(LogLevel::Info, "pg_ha: ttl changed: moving this node's keys from lease " + std::to_string(old) +
                                 " to lease " + std::to_string(lease_.id) + " (ttl " + std::to_string(granted->ttl_s) +
                                 " s)" + (moved.ok() ? "" : ": outcome unknown (" + moved.error().message + ")"));
  leftover_lease_ = old;
  if (!moved.ok()) {
    view_stale_ = true;
    return;
  }
  catch_up(written_revision_);
  settle_leftover_lease();
}

// The old lease of a re-grant: once no cached key is on it any more, it is revoked.
void Agent::settle_leftover_lease() {
  if (!cache_.valid() || view_stale_) return;
  auto moved = move_keys(leftover_lease_, lease_.id);
  if (!moved.ok() || !*moved) {
    view_stale_ = true;
    return;
  }
  if (written_revision_ > cache_.revision()) catch_up(written_revision_);
  Status revoked = etcd_.lease_revoke(leftover_lease_);
  if (!revoked.ok() && revoked.error().kind != ErrorKind::NotFound) {
    local_.log(LogLevel::Warning, "pg_ha: could not revoke the old lease " + std::to_string(leftover_lease_) + ": " +
                                      revoked.error().message);
    return;
  }
  leftover_lease_ = 0;
}

// The lease's TTL as far as timing goes: what etcd granted, bounded by the config's.
int64_t Agent::lease_ttl_ms() const {
  int64_t ttl_s = lease_.granted_ttl_s > 0 ? std::min<int64_t>(lease_.granted_ttl_s, config_.ttl_s) : config_.ttl_s;
  return ttl_s * 1000;
}

// The leader's keep-alive moves its write deadline, so it goes every loop (at least twice per
// fence_after_ms), and so does everyone's while there is no leader (the winner leads at once on a
// fresh keep-alive). A follower's only keeps its member key alive and confirms the view cache:
// every ttl/3 is enough for that.
int64_t Agent::keepalive_interval_ms() const {
  bool leading_or_open = !cache_.valid() || !view_.leader || view_.leader->value.name == settings_.node.name;
  if (leading_or_open) return core::leader_keepalive_interval_ms(config_);
  int64_t follower = std::min<int64_t>(config_.fence_after_ms, lease_ttl_ms() / 3);
  return std::max<int64_t>(config_.loop_wait_ms, follower);
}

void Agent::refresh_view(int64_t now) {
  auto snap = etcd_.read_prefix(keys_.root());
  if (!snap.ok()) {
    etcd_error_ = snap.error().message;
    return;
  }
  cache_.reset(snap->revision, std::move(snap->kvs));
  view_stale_ = false;
  view_ok_ms_ = now;
  etcd_error_.clear();
  rebuild_view();
}

// A stopped watch (compacted, or given up on) leaves a gap only a read can fill.
void Agent::absorb(const Result<WatchBatch>& batch) {
  if (!batch.ok()) {
    view_stale_ = true;
    return;
  }
  if (!cache_.valid() || (batch->changes.empty() && batch->revision <= cache_.revision())) return;
  cache_.apply(batch->changes, batch->revision);
  view_ok_ms_ = local_.monotonic_ms();
  rebuild_view();
}

// A keep-alive answered at the cache's own revision proves the cache current as of the
// keep-alive's send time. With other users of the same etcd the store revision moves past ours
// and the agent falls back to a read once per loop_wait. A lower one proves nothing: a member
// behind the others, or an etcd restored from an old snapshot, whose revisions went back. Once
// confirmed, such a stale cache stayed in force for good (the watch waits for a revision the
// restored etcd reaches only later), and the node never saw the keys change.
void Agent::confirm_view(int64_t store_revision, int64_t sent_ms) {
  if (cache_.valid() && !view_stale_ && store_revision == cache_.revision()) view_ok_ms_ = std::max(view_ok_ms_, sent_ms);
}

// This node's own write reaches the cache through the watch; a read is the fallback.
void Agent::catch_up(int64_t revision) {
  int64_t deadline = local_.monotonic_ms() + kCatchUpMs;
  while (!view_stale_ && cache_.revision() < revision && !local_.should_stop()) {
    int64_t left = deadline - local_.monotonic_ms();
    if (left <= 0) break;
    absorb(etcd_.watch_changes(keys_.root(), cache_.revision(), static_cast<int>(left)));
  }
  if (view_stale_ || cache_.revision() < revision) refresh_view(local_.monotonic_ms());
}

// No config key means the defaults. A config key that cannot be read is not that: like an invalid
// config, it leaves the last good one in force (falling back to the defaults would, say, turn
// synchronous mode off); the view lists it among its problems.
void Agent::rebuild_view() {
  std::vector<kv::KeyValue> kvs = cache_.kvs();
  view_ = core::build_view(keys_, kvs, cache_.revision());
  core::ClusterConfig next = view_.config ? view_.config->value : core::ClusterConfig{};
  bool present = std::any_of(kvs.begin(), kvs.end(), [&](const kv::KeyValue& k) { return k.key == keys_.config(); });
  Status valid = view_.config || !present ? core::validate_cluster_config(next)
                                          : make_error(ErrorKind::Protocol, "the config key cannot be read (see the status's problems)");
  if (valid.ok()) {
    config_ = next;
    rejected_config_.clear();
  } else if (valid.error().message != rejected_config_) {
    rejected_config_ = valid.error().message;
    local_.log(LogLevel::Warning, "pg_ha: ignoring the cluster config in etcd: " + rejected_config_);
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
  obs.leader_lease = leader_lease_;
  obs.etcd_view_fresh =
      cache_.valid() && cache_.revision() >= written_revision_ && now - view_ok_ms_ <= 2 * keepalive_interval_ms();
  obs.etcd_view_ms = view_ok_ms_;
  obs.wall_clock_unix_ms = local_.wall_clock_unix_ms();
  return obs;
}

// The gate is published before any etcd write of the same decision: a hand-over must never be
// sent while this node could still commit.
void Agent::apply_gate(const core::Decision& d) {
  local_.publish_gate(d.write_deadline_ms, d.fenced, d.fence_reason);
  gate_deadline_ms_ = d.write_deadline_ms;
  gate_reason_ = d.fence_reason;
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
    written_revision_ = std::max(written_revision_, r->revision);
    // An arm opens a short window in which a keep-alive answer re-opens the gate: send one now
    // rather than at the next interval.
    if (w.what.rfind(core::kArmWhat, 0) == 0) last_keepalive_attempt_ms_ = -1;
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
  Status s = files::write_atomically(path, core::encode_sidecar_request(r));
  if (!s.ok()) {
    local_.log(LogLevel::Warning, "pg_ha: could not write the sidecar request: " + s.error().message);
    return;
  }
  sidecar_request_id_ = r.id;
  local_.log(LogLevel::Info, std::string("pg_ha: asked the sidecar to ") + core::sidecar_request_kind_name(r.kind) +
                                 (r.primary.empty() ? "" : " (primary " + r.primary + ")") + ": " + r.reason);
}

void Agent::apply_local_actions(const core::Decision& d) {
  if (d.promote && !promote_requested_) local_.promote();  // log_decision says why
  promote_requested_ = d.promote;
  if (d.follow) following_ = d.follow;
  if (d.synchronous_standby_names) synchronous_standby_names_ = *d.synchronous_standby_names;
  bool wrote = write_conf(kParametersConfFile, render_parameters_conf(config_.postgresql_parameters),
                          &parameters_conf_written_);
  wrote = write_conf(kAutoConfFile,
                     render_auto_conf(following_, settings_.replication, synchronous_standby_names_, primary_slot_name()),
                     &auto_conf_written_) || wrote;
  wrote = write_hba() || wrote;
  if (wrote) local_.reload_configuration();
  if (d.sidecar) write_sidecar_request(with_incarnation(*d.sidecar));
}

// The core names a demotion by term and primary, but one is needed again whenever this node runs
// as a primary it should not be: the standby a finished demotion started can be promoted by hand
// (pg_promote()) within the same term. Under the same id the sidecar took that for the finished
// request, and the node stayed a fenced primary for good. So each postmaster gets its own
// demotion; within one postmaster the id stays the same, and the request is carried out once.
core::SidecarRequest Agent::with_incarnation(core::SidecarRequest r) {
  if (r.kind == core::SidecarRequest::Kind::Demote) r.id += "@" + std::to_string(local_.postmaster_incarnation());
  return r;
}

// Writes one of the include files this node owns when its content changed; true if written.
bool Agent::write_conf(const char* file, const std::string& conf, std::string* written) {
  if (conf == *written || settings_.state_dir.empty()) return false;
  Status s = files::write_atomically(settings_.state_dir + "/" + file, conf);
  if (!s.ok()) {
    local_.log(LogLevel::Warning, "pg_ha: could not write " + std::string(file) + ": " + s.error().message);
    return false;
  }
  *written = conf;
  return true;
}

// The cluster's client access rules (core/hba.hpp): this node's pg_hba.conf, which the sidecar
// writes with its own rules first, gets its cluster section replaced when the rules changed. Only
// from a config read from etcd (an unread one would drop the rules until the next loop). A file
// without the section is not the sidecar's and is left alone. True if written.
bool Agent::write_hba() {
  if (!cache_.valid() || settings_.state_dir.empty()) return false;
  std::string path = settings_.state_dir + "/" + kHbaFile;
  auto current = read_file(path);
  if (!current.ok()) return false;
  auto next = core::replace_cluster_hba_section(*current, config_.pg_hba);
  if (!next) {
    if (!hba_unmanaged_logged_ && !config_.pg_hba.empty())
      local_.log(LogLevel::Warning, "pg_ha: " + path + " has no pg_ha cluster section (not written by pg_ha_sidecar): "
                                    "postgresql.pg_hba is not applied on this node");
    hba_unmanaged_logged_ = !config_.pg_hba.empty();
    return false;
  }
  if (*next == *current) return false;
  Status s = files::write_atomically(path, *next, files::WriteOptions{0600});
  if (!s.ok()) {
    local_.log(LogLevel::Warning, "pg_ha: could not write " + path + ": " + s.error().message);
    return false;
  }
  local_.log(LogLevel::Info, "pg_ha: applied " + std::to_string(config_.pg_hba.size()) + " cluster pg_hba rule(s)");
  return true;
}

std::string Agent::primary_slot_name() const {
  return config_.use_slots ? core::member_slot_name(settings_.node.name) : "";
}

// Slots follow the membership (core::plan_slots): an unfenced primary keeps one per other member
// and the permanent ones; a replica keeps one per other member, advanced as they move, ready for
// the day it is promoted. A failure is logged and tried again next loop; it never stops the loop.
void Agent::maintain_slots(const core::Decision& d, const core::Observation& obs) {
  if (!cache_.valid()) return;
  core::SlotRole role = core::SlotRole::None;
  if (!obs.local.in_recovery && !d.fenced) role = core::SlotRole::Primary;
  if (obs.local.in_recovery && following_) role = core::SlotRole::Replica;
  if (role == core::SlotRole::None) return;
  auto existing = local_.list_slots();
  if (!existing) return;
  core::SlotPlanInput in{role, settings_.node.name, &config_, &view_.members, *existing,
                         obs.now_ms, obs.local.replay_lsn, obs.local.timeline};
  core::SlotPlan plan = core::plan_slots(in, slot_memory_);
  slot_memory_ = plan.memory;
  std::string failure;
  auto note = [&](const std::string& what, const std::string& name, const Status& s) {
    if (!s.ok()) {
      if (failure.empty()) failure = "could not " + what + " replication slot \"" + name + "\": " + s.error().message;
    } else if (what != "advance") {
      local_.log(LogLevel::Info, "pg_ha: " + what + (what == "drop" ? "ped" : "d") + " replication slot \"" + name + "\"");
    }
  };
  for (const std::string& name : plan.drop) note("drop", name, local_.drop_slot(name));
  for (const std::string& name : plan.create) note("create", name, local_.create_slot(name));
  for (const core::SlotAdvance& a : plan.advance) note("advance", a.name, local_.advance_slot(a.name, a.to));
  if (!failure.empty() && failure != slot_error_) local_.log(LogLevel::Warning, "pg_ha: " + failure);
  slot_error_ = failure;
}

void Agent::log_decision(const core::Decision& d) {
  if (d.reason == last_logged_reason_) return;
  last_logged_reason_ = d.reason;
  local_.log(LogLevel::Info, "pg_ha: " + std::string(core::state_name(d.state)) + ": " + d.reason);
}

void Agent::publish_snapshot(const core::Decision& d, const core::Observation& obs) {
  bool reachable = cache_.valid() && obs.now_ms - view_ok_ms_ <= 2 * keepalive_interval_ms();
  SnapshotInput in{settings_.node, config_, cache_.valid() ? &view_ : nullptr, obs, d, reachable, etcd_error_};
  local_.publish_snapshot(render_snapshot(in));
}

// Stays fenced, changes nothing, says why: for a view that cannot be decided on.
int Agent::decide_nothing(int64_t now, const std::string& reason, const std::string& fence_reason) {
  core::Observation obs = observe(now);
  core::Decision d;
  bool primary = obs.local.postgres_running && !obs.local.in_recovery;
  d.state = primary ? core::NodeState::Fenced : core::NodeState::Replica;
  d.reason = reason;
  d.fence_reason = fence_reason;
  apply_gate(d);
  log_decision(d);
  publish_snapshot(d, obs);
  return static_cast<int>(std::min<int64_t>(config_.loop_wait_ms, kFirstViewRetryMs));
}

// Until etcd has answered once there is nothing to decide on. The core would see an empty
// cluster: a running primary would show "bootstrapping", and the local actions would rewrite
// primary_conninfo (blank), the parameters (defaults) and pg_hba.conf (no members) from nothing.
// The error itself is in the status's etcd_error: the reason stays the same, so it is logged once.
int Agent::wait_for_first_view(int64_t now) {
  return decide_nothing(now, "no answer from etcd yet, so no view of the cluster: nothing is changed until etcd answers",
                        "pg_ha has not read the cluster state from etcd yet");
}

int Agent::refuse_older_state(int64_t now) {
  return decide_nothing(now, "etcd's cluster state is at term " + std::to_string(view_.state->value.term) +
                                 ", older than term " + std::to_string(seen_.term) + " this node has seen: etcd " +
                                 "was restored from an old backup or rolled back. Nothing is changed until that is "
                                 "fixed (docs/operations.md, \"etcd went back in time\")",
                        "etcd's cluster state is older than this node's (term " + std::to_string(seen_.term) + ")");
}

// etcd's `state` is older than a term this node has seen in the same cluster (term_memory.hpp).
// The file is read again whenever the view's term is lower than the one in memory: the sidecar
// may have cleared it.
bool Agent::state_older_than_seen() {
  if (!view_.initialize) {
    if ((!seen_loaded_ || seen_.term != 0) && forget_highest_term(settings_.state_dir))
      local_.log(LogLevel::Warning, "pg_ha: etcd holds no `initialize` key: forgot the highest term seen, so that this "
                                    "node accepts the terms of the cluster when it is initialized again");
    seen_ = TermSeen{};
    seen_loaded_ = true;
    return false;
  }
  if (!view_.state) return false;
  TermSeen now{view_.state->value.term, view_.initialize->value.system_identifier};
  if (!seen_loaded_ || now.term < seen_.term) {
    auto stored = read_highest_term(settings_.state_dir);
    if (!stored.ok()) local_.log(LogLevel::Warning, "pg_ha: cannot read the highest term seen: " + stored.error().message);
    if (stored.ok()) seen_ = *stored;
    seen_loaded_ = true;
  }
  bool same_cluster = seen_.system_identifier == now.system_identifier;
  if (same_cluster && now.term < seen_.term) return true;
  if (!same_cluster || now.term > seen_.term) {   // a later term, or a cluster built anew
    Status s = write_highest_term(settings_.state_dir, now);
    if (!s.ok()) local_.log(LogLevel::Warning, "pg_ha: cannot record term " + std::to_string(now.term) + ": " + s.error().message);
    seen_ = now;   // this process remembers it all the same
  }
  return false;
}

int Agent::iterate() {
  int64_t now = local_.monotonic_ms();
  if (view_stale_ || !cache_.valid()) refresh_view(now);
  if (!cache_.valid()) return wait_for_first_view(now);
  maintain_lease(now);
  read_leader_lease(local_.monotonic_ms());
  now = local_.monotonic_ms();
  if (cache_.valid() && now - view_ok_ms_ >= keepalive_interval_ms()) refresh_view(now);  // nothing confirmed it lately
  core::Decision last;
  core::Observation obs;
  if (auto tags = local_.current_tags()) settings_.node.tags = *tags;
  for (int i = 0; i < kMaxStepsPerIteration; ++i) {
    now = local_.monotonic_ms();
    // Before every step: the view may have changed since the last (a refresh, a catch-up).
    if (state_older_than_seen()) return refuse_older_state(now);
    obs = observe(now);
    core::StepInput in{config_, settings_.node, keys_, view_, obs};
    core::StepOutput out = core::step(in, memory_);
    memory_ = out.memory;
    apply_gate(out.decision);
    ttl_lease_wanted_ = out.decision.read_lease_ttl;
    ttl_read_at_ms_ = out.decision.read_lease_ttl_at;
    hold_keepalive_ = out.decision.hold_keepalive;
    bool wrote = cache_.valid() && execute_writes(out.decision);
    apply_local_actions(out.decision);
    log_decision(out.decision);
    last = out.decision;
    if (!wrote || local_.should_stop()) break;
    catch_up(written_revision_);
  }
  if (!local_.should_stop()) maintain_slots(last, obs);
  publish_snapshot(last, obs);
  now = local_.monotonic_ms();
  int64_t next = last.wake_at_ms;
  if (!hold_keepalive_) next = std::min<int64_t>(next, last_keepalive_attempt_ms_ + keepalive_interval_ms());
  if (ttl_lease_wanted_ != 0) next = std::min<int64_t>(next, next_ttl_read_ms());
  return static_cast<int>(std::clamp<int64_t>(next - now, 0, config_.loop_wait_ms));
}

}  // namespace pg_ha::agent
