#include "supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "bootstrap.hpp"
#include "config.hpp"
#include "log.hpp"
#include "requests.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

constexpr int kLoopMs = 50;
constexpr int64_t kStableAfterMs = 60000;   // up this long: the back-off starts from zero again
constexpr int64_t kMaxBackoffMs = 30000;
constexpr int64_t kStopTimeoutMs = 60000;
// A primary that has not served since its restart is stopped so that the failover can begin: it
// gets a few seconds for a fast shutdown, then an immediate one. It has acknowledged nothing since
// its restart, and the WAL makes an immediate shutdown safe (the next start, or pg_rewind, runs the
// crash recovery); waiting the ordinary minute would hold the failover back as long.
constexpr int64_t kNotServingStopTimeoutMs = 5000;

int64_t backoff_ms(int attempts) {
  if (attempts <= 0) return 0;
  return std::min<int64_t>(kMaxBackoffMs, int64_t{1000} << std::min(attempts - 1, 5));
}

}  // namespace

int Supervisor::run() {
  // Left by a sidecar that died mid-restart: a later shutdown must release the lease again.
  unlink(node_.state_file(kRestartingMarker).c_str());
  if (postmaster_.adopt_running()) {
    drop_stale_revoke_record();
  } else {
    settle_revokes_of_previous_sidecar();
    if (stop_requested()) return 0;
    replay_pending_request();
    if (!postmaster_.running()) {
      Status s = start("start-up");
      if (!s) log_error("cannot start postgres: " + s.error().message);
    }
  }
  was_primary_ = !has_standby_signal(node_);
  was_up_ = postmaster_.running();
  if (!was_up_) {
    down_since_ms_ = monotonic_ms();   // could not start: retried with back-off like a crash
    down_since_unix_ms_ = unix_ms();
    next_start_ms_ = down_since_ms_ + backoff_ms(++attempts_);
    down_kind_ = DownKind::StartFailed;
    start_failed_ = true;
  }
  up_since_ms_ = monotonic_ms();
  while (!stop_requested()) {
    bool up = postmaster_.running();
    stats_.postgres_running = up;
    if (!up && was_up_) on_exit_seen();
    was_up_ = up;
    if (!up) while_down();
    if (up && down_since_ms_ != 0 && !paused_now()) check_primary_deadline();
    // Polled every 250 ms: each failed try leaves a "starting up" line in the postgres log. Also
    // until a fresh postmaster has served once, so that an exit before it did counts as a failed start.
    bool waiting = down_since_ms_ != 0 || !postmaster_.served();
    if (up && waiting && monotonic_ms() >= next_ping_ms_ && (next_ping_ms_ = monotonic_ms() + 250) &&
        postmaster_.accepting() && down_since_ms_ != 0) {
      log_info("postgres is accepting connections again after " + std::to_string(monotonic_ms() - down_since_ms_) + " ms");
      stats_.set_down_reason("");
      down_since_ms_ = 0;
      up_since_ms_ = monotonic_ms();
    }
    if (up && attempts_ > 0 && down_since_ms_ == 0 && monotonic_ms() - up_since_ms_ > kStableAfterMs) attempts_ = 0;
    reload_if_asked();
    warn_if_cluster_keys_lost();
    poll_requests();
    publish_down_state(postmaster_.running());
    if (!bootstrap_finished_ && up && monotonic_ms() >= next_bootstrap_try_ms_) {
      bootstrap_finished_ = finish_bootstrap(node_, cluster_);
      next_bootstrap_try_ms_ = monotonic_ms() + 500;
    }
    nap_ms(kLoopMs);
  }
  log_info("shutdown requested: fast shutdown of postgres");
  postmaster_.stop(kStopTimeoutMs);
  down_.clear();   // a stop on purpose: the node leaves the list with its sidecar
  stats_.postgres_running = false;
  log_info("postgres is down; exiting");
  return 0;
}

// A revoke the previous sidecar sent without an answer may still land (its record in the state
// folder says so). Postgres starts only once etcd has answered one: its worker would adopt the
// lease, and the late revoke would end it while the worker still acknowledges (FINDINGS F21).
void Supervisor::settle_revokes_of_previous_sidecar() {
  if (!cluster_.revoke_unanswered()) return;
  log_warn("a lease revoke of the previous sidecar may still be in flight: revoking again before postgres starts");
  stats_.set_down_reason("waiting for etcd to answer the revoke of this node's lease");
  int64_t next_log_ms = 0;
  while (!stop_requested() && cluster_.revoke_unanswered()) {
    auto n = cluster_.revoke_own_lease();
    if (n) {
      log_info("revoked " + std::to_string(*n) + " lease(s); etcd answered every revoke: postgres may start");
      break;
    }
    if (monotonic_ms() >= next_log_ms) {
      log_warn("postgres waits for etcd to answer the revoke of this node's lease: " + n.error().message);
      next_log_ms = monotonic_ms() + 10000;
    }
    nap_ms(500);
  }
  stats_.set_down_reason("");
}

// Postgres runs although a record says a revoke may be in flight: only this sidecar starts
// postgres, and only once every revoke is answered, so the record outlived its answer (its removal
// failed). Revoking now could end the lease the running worker holds (FINDINGS F22): drop it.
void Supervisor::drop_stale_revoke_record() {
  if (!cluster_.revoke_unanswered()) return;
  log_warn("a record of unanswered lease revokes is left, but postgres already runs: dropping it without revoking");
  Status s = cluster_.forget_revokes();
  if (!s) log_error(s.error().message);
}

Status Supervisor::start(const char* why) {
  Status s = start_postgres(node_, postmaster_, cluster_);
  if (s) {
    was_primary_ = !has_standby_signal(node_);
    log_info(std::string("postgres started (") + why + ") as " + (was_primary_ ? "primary" : "standby"));
  }
  return s;
}

void Supervisor::on_exit_seen() {
  int64_t now = monotonic_ms();
  next_start_ms_ = now + backoff_ms(attempts_);
  std::string said = postmaster_.exit_reason();
  stats_.set_down_reason(describe_exit(postmaster_.last_status()) + (said.empty() ? "" : ": " + said));
  down_kind_ = classify_exit(ExitFacts{postmaster_.served(), postmaster_.log_since_start(), attempts_ + 1});
  bool failed_start = down_kind_ == DownKind::StartFailed;
  stats_.set_down_state(down_kind_name(down_kind_));   // with the reason, for /health at once
  if (down_since_ms_ != 0) {   // died again before it served: same outage, the back-off grows
    start_failed_ = start_failed_ || failed_start;
    log_warn(std::string("postgres exited again during start-up (") + describe_exit(postmaster_.last_status()) +
             ")" + (said.empty() ? "" : ": " + said) + "; see " + node_.postgres_log());
    return;
  }
  down_since_ms_ = now;
  down_since_unix_ms_ = unix_ms();
  start_failed_ = failed_start;
  // Postgres removes standby.signal when it promotes: the file tells what it was when it died.
  was_primary_ = !has_standby_signal(node_);
  // A primary that was serving comes back at once, whatever earlier crashes: every second it is
  // down is a write outage. The back-off still applies when it dies again during start-up.
  if (was_primary_) next_start_ms_ = now;
  lease_revoked_ = false;
  logged_pause_ = false;
  next_pause_check_ms_ = 0;
  auto config = cluster_.config();   // read once per crash: etcd may be the reason we are here
  primary_start_timeout_ms_ = config ? int64_t{config->primary_start_timeout_s} * 1000 : 30000;
  log_warn(std::string("postgres exited unexpectedly (") + describe_exit(postmaster_.last_status()) + ") as " +
           (was_primary_ ? "primary" : "standby") + " [" + down_kind_name(down_kind_) + "]" +
           (said.empty() ? "" : ": " + said) + "; see " + node_.postgres_log());
}

core::DownRecord Supervisor::down_record() const {
  core::DownRecord r;
  r.name = node_.config.name;
  r.role = was_primary_ ? "primary" : "replica";
  r.state = down_kind_name(paused_ ? DownKind::Stopped : down_kind_);
  std::string reason = stats_.down_reason();
  r.reason = paused_ ? "the cluster is paused: the sidecar does not restart postgres (" + reason + ")" : reason;
  r.since_unix_ms = down_since_unix_ms_;
  r.host = node_.config.effective_connect_host();
  r.port = node_.config.port;
  r.api_url = node_.config.api_url();
  r.member_id = cluster_.member_id();
  return r;
}

// While postgres is down (not running, and not yet serving again) the node stays listed with why.
void Supervisor::publish_down_state(bool up) {
  if (down_since_ms_ == 0) {
    stats_.set_down_state("");
    down_.clear();
    return;
  }
  if (up) return;   // restarting: the record (and /health) keep saying why it went down until it serves
  core::DownRecord r = down_record();
  stats_.set_down_state(r.state);
  down_.publish(r, monotonic_ms());
}

// A postgres that cannot start may be waiting for a fix of the cluster's parameters in etcd: once
// they differ from what it last failed with, try again now instead of after the back-off.
void Supervisor::start_at_once_if_parameters_changed() {
  int64_t now = monotonic_ms();
  if (now < next_parameters_check_ms_ || now >= next_start_ms_) return;
  next_parameters_check_ms_ = now + 1000;
  auto conf = parameters_conf_from_etcd(cluster_);
  auto current = read_whole_file(node_.parameters_conf_path());
  if (!conf || (current && *current == *conf)) return;
  log_info("the cluster's parameters changed in etcd while postgres is down: starting it now");
  next_start_ms_ = now;
}

bool Supervisor::paused_now() {
  int64_t now = monotonic_ms();
  if (now >= next_pause_check_ms_) {
    auto paused = cluster_.paused();
    paused_ = paused && *paused;   // etcd unreachable: act as unpaused (a restarted primary is fenced)
    next_pause_check_ms_ = now + 1000;
  }
  return paused_;
}

// A crashed primary that is not serving again within primary_start_timeout gives up its lease. A
// revoke without an answer is tried again on the next turn (and holds back the restart).
void Supervisor::check_primary_deadline() {
  if (!was_primary_ || lease_revoked_ || down_since_ms_ == 0) return;
  int64_t down_ms = monotonic_ms() - down_since_ms_;
  // A start that failed (crash recovery hit ENOSPC, ...) will not fix itself within the timeout.
  if (down_ms < primary_start_timeout_ms_ && !start_failed_) return;
  if (postmaster_.running()) {
    // Started again but not serving: its worker starts with the postmaster and may hold the lease
    // by now. A revoke under it would end the lease while that worker's gate is open (FINDINGS
    // F22), so the postmaster goes first; the revoke follows on the next turn, with postgres down.
    log_warn("primary not serving for " + std::to_string(down_ms) +
             " ms after its restart: stopping it before the lease is revoked");
    Status s = postmaster_.stop(kNotServingStopTimeoutMs);
    if (!s) log_error("cannot stop postgres: " + s.error().message);
    return;
  }
  auto n = cluster_.revoke_own_lease();
  if (!n) {
    log_warn("cannot revoke this node's lease: " + n.error().message);
    return;
  }
  log_warn("primary not serving for " + std::to_string(down_ms) + " ms (" +
           (start_failed_ ? std::string("it failed to start") :
                            "primary_start_timeout " + std::to_string(primary_start_timeout_ms_ / 1000) + " s") +
           "): revoked " + std::to_string(*n) + " lease(s) so the election starts now");
  stats_.lease_revocations++;
  lease_revoked_ = true;
}

// Postgres is down and nobody asked for it: restart with back-off (nothing while paused).
void Supervisor::while_down() {
  if (paused_now()) {
    if (!logged_pause_) log_warn("cluster is paused: not restarting postgres (resume, or send a restart request)");
    logged_pause_ = true;
    return;
  }
  check_primary_deadline();
  if (cluster_.revoke_unanswered()) {
    // Retried above on every turn until etcd answers: a late revoke must find the lease already
    // dead, not adopted by the worker of a postgres started meanwhile (FINDINGS F11).
    stats_.set_down_reason("waiting for etcd to answer the revoke of this node's lease");
    return;
  }
  start_at_once_if_parameters_changed();
  int64_t now = monotonic_ms();
  if (now < next_start_ms_) return;
  ++attempts_;
  stats_.postgres_restarts++;
  next_start_ms_ = now + backoff_ms(attempts_);
  Status s = start("restart after a crash");
  if (!s) log_error("restart failed (next try in " + std::to_string(backoff_ms(attempts_)) + " ms): " + s.error().message);
}

// Replay first: a request interrupted by our crash decides how postgres comes back. When start-up
// has just re-cloned the data directory from the very member the request names (the request's
// clone was interrupted), the request is already done: cloning again would only put a fresh copy
// aside.
void Supervisor::replay_pending_request() {
  auto req = pending_request(node_);
  if (!req) return;
  using Kind = core::SidecarRequest::Kind;
  bool follows = req->kind == Kind::Demote || req->kind == Kind::Rewind || req->kind == Kind::Reclone;
  if (follows && !cloned_from_.empty() && req->primary == cloned_from_) {
    core::SidecarResult r{req->id, true, "re-cloned from " + cloned_from_ + " at start-up; started as a standby of " + cloned_from_,
                          unix_ms()};
    Status w = write_result(node_, r);
    if (!w) log_error("cannot write the request result: " + w.error().message);
    log_info("request " + req->id + " done by the start-up clone from " + cloned_from_);
    stats_.requests_done++;
    return;
  }
  RequestExecutor(node_, cluster_, postmaster_).run(*req);
  stats_.requests_done++;
}

void Supervisor::poll_requests() {
  auto req = pending_request(node_);
  if (!req) return;
  RequestExecutor(node_, cluster_, postmaster_).run(*req);
  stats_.requests_done++;
  // The request decided how postgres runs now; a stop it made is no crash.
  down_since_ms_ = 0;
  stats_.set_down_reason("");
  attempts_ = 0;
  was_primary_ = !has_standby_signal(node_);
  up_since_ms_ = monotonic_ms();
  if (!postmaster_.running()) {
    Status s = start("after a request");
    if (!s) log_error("cannot start postgres: " + s.error().message);
  }
  was_up_ = postmaster_.running();
  if (!was_up_) {
    down_since_ms_ = monotonic_ms();
    down_since_unix_ms_ = unix_ms();
    next_start_ms_ = down_since_ms_ + backoff_ms(++attempts_);
    down_kind_ = DownKind::StartFailed;
  }
}

namespace {

std::string describe_tags(const core::Tags& t) {
  return std::string("nofailover=") + (t.nofailover ? "on" : "off") + " priority=" + std::to_string(t.priority) +
         " nosync=" + (t.nosync ? "on" : "off") + " noloadbalance=" + (t.noloadbalance ? "on" : "off");
}

bool same_tags(const core::Tags& a, const core::Tags& b) {
  return a.nofailover == b.nofailover && a.priority == b.priority && a.nosync == b.nosync &&
         a.noloadbalance == b.noloadbalance;
}

}  // namespace

// SIGHUP (issue 16): the tags change with a reload of postgres, never a restart. The sidecar
// reads its config file again, rewrites postgresql.conf with the new tags and signals the
// postmaster; the worker re-reads its GUCs and republishes its member record within a step. Every
// other setting (names, directories, addresses, etcd access) is fixed for the sidecar's life: a
// change to one takes effect when the sidecar restarts. A file with an error changes nothing.
void Supervisor::reload_if_asked() {
  if (!take_reload_request()) return;
  bool help = false;
  auto fresh = load_config(config_args_, &help);
  if (!fresh) {
    log_error("SIGHUP: the config has an error, nothing changed: " + fresh.error().message);
    return;
  }
  if (same_tags(fresh->tags, node_.config.tags)) {
    log_info("SIGHUP: the tags did not change (" + describe_tags(node_.config.tags) +
             "); other settings take effect when the sidecar restarts");
    return;
  }
  node_.config.tags = fresh->tags;
  log_info("SIGHUP: tags now " + describe_tags(node_.config.tags) + "; other settings take effect when the sidecar restarts");
  if (!postmaster_.running()) return;   // written when postgres starts
  Status s = write_node_files(node_, initial_upstream(node_, cluster_));
  if (!s) {
    log_error("SIGHUP: cannot rewrite postgresql.conf: " + s.error().message);
    return;
  }
  if (::kill(postmaster_.pid(), SIGHUP) != 0) log_error("SIGHUP: cannot signal the postmaster to reload");
}

// etcd can lose the cluster's keys (rebuilt empty, a single member restarted on a new data
// directory). Every worker then waits for an `initialize` that nothing writes while it runs: the
// primary stays fenced. Deciding alone which node has the newest data is not safe (an old primary
// not yet demoted is not in recovery either), so the operator restarts the right sidecar, whose
// start adopts its data directory (bootstrap.cpp); this says so, once a minute.
void Supervisor::warn_if_cluster_keys_lost() {
  if (!bootstrap_finished_ || monotonic_ms() < next_keys_check_ms_) return;
  next_keys_check_ms_ = monotonic_ms() + 10000;
  auto init = cluster_.initialize();
  if (!init || *init) return;
  next_keys_check_ms_ = monotonic_ms() + 60000;
  log_warn("etcd holds no `initialize` key for cluster `" + node_.config.cluster +
           "`, although this node belongs to it: etcd lost the cluster's keys. The cluster stays fenced until it is "
           "initialized again: restart the sidecar of the node with the newest data (the primary; a standby's sidecar "
           "never does it), then apply the cluster config again (pg_hactl edit-config)");
}

}  // namespace pg_ha::sidecar
