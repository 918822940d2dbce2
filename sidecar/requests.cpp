#include "requests.hpp"

#include <unistd.h>

#include "agent/auto_conf.hpp"
#include "bootstrap.hpp"
#include "core/hba.hpp"
#include "log.hpp"
#include "wiring.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

constexpr int64_t kStopTimeoutMs = 60000;
constexpr int kUnreachableRetryMs = 1000;
std::string g_last_bad_request;   // logged once per bad content, not every poll

}  // namespace

std::optional<core::SidecarRequest> pending_request(const Node& node) {
  auto text = read_whole_file(node.state_file(core::kSidecarRequestFile));
  if (!text) return std::nullopt;
  auto request = core::decode_sidecar_request(*text);
  if (!request) {
    if (*text != g_last_bad_request) log_error("ignoring the request file: " + request.error().message);
    g_last_bad_request = *text;
    return std::nullopt;
  }
  auto result_text = read_whole_file(node.state_file(core::kSidecarResultFile));
  if (result_text) {
    auto result = core::decode_sidecar_result(*result_text);
    if (result && result->id == request->id) return std::nullopt;
  }
  return *request;
}

Status write_result(const Node& node, const core::SidecarResult& result) {
  return files::write_atomically(node.state_file(core::kSidecarResultFile), core::encode_sidecar_result(result),
                                 files::WriteOptions{0644});
}

std::optional<std::string> parameters_conf_from_etcd(ClusterView& cluster) {
  auto config = cluster.config();
  if (!config || !core::validate_cluster_config(*config)) return std::nullopt;
  return agent::render_parameters_conf(config->postgresql_parameters);
}

// Leaves the file alone when etcd cannot say what it should hold.
void write_parameters_conf(const Node& node, ClusterView& cluster) {
  auto conf = parameters_conf_from_etcd(cluster);
  if (!conf) return;
  auto current = read_whole_file(node.parameters_conf_path());
  if (current && *current == *conf) return;
  Status s = files::write_atomically(node.parameters_conf_path(), *conf);
  if (!s) log_warn("cannot write " + node.parameters_conf_path() + ": " + s.error().message);
  else log_info("wrote the cluster config's parameters from etcd to " + node.parameters_conf_path());
}

// The cluster's pg_hba rules from etcd into pg_hba.conf's cluster section, as the worker does once
// it runs; left as it is when etcd cannot say.
void write_cluster_hba(const Node& node, ClusterView& cluster) {
  auto config = cluster.config();
  if (!config || !core::validate_cluster_config(*config)) return;
  auto current = read_whole_file(node.hba_path());
  if (!current) return;
  auto next = core::replace_cluster_hba_section(*current, config->pg_hba);
  if (!next || *next == *current) return;
  Status s = files::write_atomically(node.hba_path(), *next, files::WriteOptions{0600});
  if (!s) log_warn("cannot write " + node.hba_path() + ": " + s.error().message);
  else log_info("wrote the cluster config's pg_hba rules from etcd to " + node.hba_path());
}

std::optional<Upstream> initial_upstream(const Node& node, ClusterView& cluster) {
  if (!has_standby_signal(node)) return std::nullopt;
  // A node whose worker has never run (a fresh clone) waits for it: the worker follows only once
  // it has found its name free of another identity. Streaming before that, a second node under
  // a synchronous standby's name would acknowledge commits as that standby (FINDINGS.md F16).
  if (!path_exists(node.auto_conf_path())) return std::nullopt;
  // The worker's pg_ha.auto.conf says whom to follow once it runs; until then, the leader.
  auto leader = cluster.leader_upstream();
  if (leader && *leader && (*leader)->name != node.config.name) return **leader;
  return std::nullopt;
}

Status start_postgres(const Node& node, Postmaster& postmaster, ClusterView& cluster,
                      const std::optional<Upstream>& follow) {
  std::optional<Upstream> target = follow ? follow : initial_upstream(node, cluster);
  Status s = write_node_files(node, target);
  if (!s) return s;
  write_parameters_conf(node, cluster);
  write_cluster_hba(node, cluster);
  s = clean_postgresql_auto_conf_file(node);
  if (!s) log_warn("cannot clean postgresql.auto.conf: " + s.error().message);
  return postmaster.start();
}

core::SidecarResult RequestExecutor::run(const core::SidecarRequest& request) {
  int64_t t0 = monotonic_ms();
  log_info(std::string("carrying out request ") + request.id + ": " + core::sidecar_request_kind_name(request.kind) +
           (request.primary.empty() ? "" : " (primary " + request.primary + ")") +
           (request.reason.empty() ? "" : ", because " + request.reason));
  std::string detail;
  Status s = run_kind(request, &detail);
  core::SidecarResult result;
  result.id = request.id;
  result.ok = s.ok();
  result.message = s.ok() ? detail : s.error().message;
  result.finished_unix_ms = unix_ms();
  // A source that cannot be reached (nothing was stopped) is tried again a little later.
  bool retry = !s.ok() && s.error().kind == ErrorKind::Unavailable;
  if (retry) nap_ms(kUnreachableRetryMs);
  if (s.ok() || (s.error().kind != ErrorKind::Interrupted && !retry)) {
    // An interrupted request stays pending: the next sidecar runs it again.
    Status w = write_result(node_, result);
    if (!w) log_error("cannot write the request result: " + w.error().message);
  }
  log_line(s.ok() ? LogLevel::Info : LogLevel::Error,
           "request " + request.id + (s.ok() ? " done" : " failed") + " in " + std::to_string(monotonic_ms() - t0) +
               " ms: " + result.message);
  return result;
}

Status RequestExecutor::run_kind(const core::SidecarRequest& request, std::string* detail) {
  using Kind = core::SidecarRequest::Kind;
  switch (request.kind) {
    case Kind::Demote:
    case Kind::Rewind:
    case Kind::Reclone: {
      auto from = upstream_of(request);
      if (!from) return from.error();
      return become_standby(*from, request.kind != Kind::Reclone, detail);
    }
    case Kind::Restart:
      *detail = "restarted";
      return restart();
    case Kind::ReleaseLease:
      return release_lease(detail);
  }
  return make_error(ErrorKind::Invalid, "unknown request kind");
}

Result<Upstream> RequestExecutor::upstream_of(const core::SidecarRequest& request) {
  if (!request.primary_host.empty() && request.primary_port > 0)
    return Upstream{request.primary, request.primary_host, request.primary_port};
  if (request.primary.empty()) return make_error(ErrorKind::Invalid, "the request names no primary to follow");
  auto member = cluster_.member_upstream(request.primary);
  if (!member) return member.error();
  if (!*member) return make_error(ErrorKind::NotFound, "member " + request.primary + " has no address in etcd");
  return **member;
}

// Stop, pg_rewind (when asked and possible), otherwise re-clone, then start as a standby of `from`.
Status RequestExecutor::become_standby(const Upstream& from, bool try_rewind, std::string* detail) {
  if (from.name == node_.config.name) return make_error(ErrorKind::Invalid, "a node cannot follow itself");
  Status s = check_source_reachable(node_, from);
  if (!s) return make_error(ErrorKind::Unavailable, s.error().message + " (nothing stopped; the request stays pending)");
  s = postmaster_.stop(kStopTimeoutMs);
  if (!s) return s;
  bool reclone = !try_rewind || inspect_data_dir(node_.config.data_dir) != DataDirState::Cluster;
  if (!reclone && path_exists(node_.state_file(kRewindMarker))) {
    // pg_rewind stopped half-way leaves a data directory that cannot be trusted: clone instead.
    log_warn("an earlier pg_rewind was interrupted: re-cloning instead of rewinding again");
    reclone = true;
  }
  if (!reclone) {
    s = files::write_atomically(node_.state_file(kRewindMarker), "", files::WriteOptions{0600});
    if (!s) return s;
    int64_t t0 = monotonic_ms();
    auto rewound = run_rewind(node_, from);
    if (rewound) {
      *detail = *rewound == RewindOutcome::NotNeeded ? "no rewind was needed"
                                                     : "rewound in " + std::to_string(monotonic_ms() - t0) + " ms";
      log_info("pg_rewind against " + from.name + ": " + *detail);
      unlink(node_.state_file(kRewindMarker).c_str());
    } else {
      if (rewound.error().kind == ErrorKind::Interrupted) return rewound.error();
      if (rewound.error().kind == ErrorKind::Unavailable) return not_rewound_yet(from, rewound.error().message);
      log_warn("pg_rewind failed, re-cloning instead: " + rewound.error().message);
      reclone = true;
    }
  }
  if (reclone) {
    s = clone_from(node_, cluster_, from);
    if (!s) return s;
    *detail = detail->empty() ? "re-cloned from " + from.name : *detail + "; re-cloned from " + from.name;
  } else {
    s = write_standby_signal(node_);
    if (!s) return s;
  }
  unlink(node_.state_file(kRewindMarker).c_str());
  s = start_postgres(node_, postmaster_, cluster_, from);
  if (!s) return s;
  *detail += "; started as a standby of " + from.name;
  return ok_status();
}

// The source refused pg_rewind's (or its CHECKPOINT's) connection: nothing was changed, so the
// data stays and the request is tried again later instead of re-cloning (a full copy) because of a
// moment of too many clients. Postgres starts again as it was meanwhile (the worker keeps a node
// that is not the leader fenced).
Status RequestExecutor::not_rewound_yet(const Upstream& from, const std::string& why) {
  unlink(node_.state_file(kRewindMarker).c_str());
  log_warn("pg_rewind could not connect to " + from.name + ": not re-cloning; the request stays pending: " + why);
  Status s = start_postgres(node_, postmaster_, cluster_);
  if (!s) log_error("cannot start postgres again: " + s.error().message);
  return make_error(ErrorKind::Unavailable, "pg_rewind could not connect to " + from.name + " (data unchanged; the request stays pending): " + why);
}

// The marker tells the worker that this stop is a restart: it keeps its lease on shutdown and the
// restarted worker adopts it, so a restart for a parameter never causes a failover.
Status RequestExecutor::restart() {
  std::string marker = node_.state_file(kRestartingMarker);
  Status s = files::write_atomically(marker, "", files::WriteOptions{0644});
  if (s) s = postmaster_.stop(kStopTimeoutMs);
  unlink(marker.c_str());
  if (!s) return s;
  return start_postgres(node_, postmaster_, cluster_);
}

Status RequestExecutor::release_lease(std::string* detail) {
  auto n = cluster_.revoke_own_lease();
  if (!n) return n.error();
  *detail = "revoked " + std::to_string(*n) + " lease(s)";
  return ok_status();
}

}  // namespace pg_ha::sidecar
