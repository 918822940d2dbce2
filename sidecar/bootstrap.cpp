#include "bootstrap.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <libpq-fe.h>

#include "agent/term_memory.hpp"
#include "log.hpp"
#include "old_data_dirs.hpp"
#include "postmaster.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

constexpr int kJoinLogEveryMs = 10000;

std::string marker(const Node& node, const char* name) { return node.state_file(name); }

Status set_marker(const Node& node, const char* name) {
  return files::write_atomically(marker(node, name), "", files::WriteOptions{0600});
}

void clear_marker(const Node& node, const char* name) { unlink(marker(node, name).c_str()); }

std::string quote_ident(PGconn* conn, const std::string& name) {
  char* q = PQescapeIdentifier(conn, name.c_str(), name.size());
  std::string out = q ? q : "";
  PQfreemem(q);
  return out;
}

Status exec(PGconn* conn, const std::string& sql, const std::string& what) {
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  std::string msg = PQresultErrorMessage(r);
  PQclear(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return ok_status();
  return make_error(ErrorKind::Internal, what + " failed: " + msg);
}

// Creates `user` if missing and sets its attributes and password, read from the replication
// passfile. The password is hashed by libpq (SCRAM) before it is sent: the server, its logs and
// ours never see it.
Status ensure_login_role(const Node& node, PGconn* conn, const std::string& user, const std::string& attributes) {
  auto password = password_from_passfile(node.config.replication_passfile, user);
  if (!password) return password.error();
  std::string role = quote_ident(conn, user);
  char* verifier = PQencryptPasswordConn(conn, password->c_str(), user.c_str(), "scram-sha-256");
  if (!verifier) return make_error(ErrorKind::Internal, "cannot hash the password of role " + user);
  char* literal = PQescapeLiteral(conn, verifier, strlen(verifier));
  char* name = PQescapeLiteral(conn, user.c_str(), user.size());
  std::string sql = "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = " + std::string(name) +
                    ") THEN CREATE ROLE " + role + "; END IF; END$$; ALTER ROLE " + role + " WITH LOGIN " +
                    attributes + " PASSWORD " + literal + ";";
  PQfreemem(name);
  PQfreemem(literal);
  PQfreemem(verifier);
  return exec(conn, sql, "creating role " + user);
}

// The replication role, its password and what pg_rewind needs to read the source's files.
Status create_replication_role(const Node& node) {
  PGconn* conn = PQconnectdb(local_conninfo(node, 5).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return make_error(ErrorKind::Internal, "cannot connect to the new cluster: " + msg);
  }
  const std::string& user = node.config.replication_user;
  std::string role = quote_ident(conn, user);
  Status s = ensure_login_role(node, conn, user, "REPLICATION");
  if (s) {
    s = exec(conn,
             "GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO " + role +
                 "; GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO " + role +
                 "; GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO " + role +
                 "; GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO " + role +
                 "; GRANT pg_checkpoint TO " + role,
             "granting pg_rewind's functions");
  }
  // The superuser pg_rewind connects as (rewind_user), so that a demote still finds a reserved
  // slot on a new primary whose max_connections is full.
  if (s && node.config.effective_rewind_user() != user) s = ensure_login_role(node, conn, node.config.rewind_user, "SUPERUSER");
  PQfinish(conn);
  return s;
}

// Sets up roles on a private start of the new cluster: no pg_ha preloaded (so no fence and no
// worker), no TCP listener. Runs before the first real start.
Status set_up_roles(const Node& node) {
  Postmaster setup(node);
  Status s = setup.start({"shared_preload_libraries=", "listen_addresses="});
  if (s) s = setup.wait_ready(60000);
  if (s) s = create_replication_role(node);
  Status stopped = setup.stop(30000);
  if (!s) return s;
  return stopped;
}

Status record_system_identifier(const Node& node, ClusterView& cluster, int64_t mod_revision, const std::string& sysid) {
  kv::Txn txn;
  txn.compare.push_back(kv::Compare::mod_revision_is(cluster.keys().initialize(), mod_revision));
  txn.success.push_back(kv::RequestOp::put(cluster.keys().initialize(),
                                           core::encode(core::InitializeRecord{node.config.name, sysid})));
  auto r = cluster.store().txn(txn);
  if (!r) return r.error();
  if (!r->succeeded) return make_error(ErrorKind::Internal, "the initialize key changed while this node was bootstrapping");
  log_info("recorded system identifier " + sysid + " in " + cluster.keys().initialize());
  return ok_status();
}

// The winner of the race: a new cluster in the data directory.
Status initialize_cluster(const Node& node, ClusterView& cluster, int64_t mod_revision) {
  int64_t t0 = monotonic_ms();
  if (inspect_data_dir(node.config.data_dir) == DataDirState::Cluster ||
      inspect_data_dir(node.config.data_dir) == DataDirState::Other) {
    auto aside = move_aside(node.config.data_dir);   // a half-made initdb of our own earlier attempt
    if (!aside) return aside.error();
  }
  Status s = set_marker(node, kExtensionMarker);
  if (s) s = run_initdb(node);
  if (!s) return s;
  auto sysid = read_system_identifier(node);
  if (!sysid) return sysid.error();
  s = write_node_files(node, std::nullopt);
  if (s) s = set_up_roles(node);
  if (s) s = record_system_identifier(node, cluster, mod_revision, *sysid);
  if (s) log_info("bootstrap: new cluster initialized in " + std::to_string(monotonic_ms() - t0) + " ms");
  return s;
}

// Waits for a leader whose member record says where it listens.
Result<Upstream> wait_for_leader(ClusterView& cluster) {
  int64_t next_log = 0;
  while (!stop_requested()) {
    auto up = cluster.leader_upstream();
    if (up && *up) return **up;
    if (monotonic_ms() >= next_log) {
      log_info(up ? "waiting for a leader to clone from" : "waiting for a leader (etcd: " + up.error().message + ")");
      next_log = monotonic_ms() + kJoinLogEveryMs;
    }
    nap_ms(200);
  }
  return make_error(ErrorKind::Interrupted, "shutdown requested");
}

Status join_cluster(const Node& node, ClusterView& cluster, std::string* cloned_from) {
  while (!stop_requested()) {
    auto leader = wait_for_leader(cluster);
    if (!leader) return leader.error();
    Status s = clone_from(node, cluster, *leader);
    if (s) *cloned_from = leader->name;
    if (s) return s;
    log_warn("cloning from " + leader->name + " failed, retrying in 2 s: " + s.error().message);
    nap_ms(2000);
  }
  return make_error(ErrorKind::Interrupted, "shutdown requested");
}

// A data directory with a cluster in it must be this cluster's.
Status check_data_dir_cluster(const Node& node, ClusterView& cluster) {
  auto sysid = read_system_identifier(node);
  if (!sysid) return sysid.error();
  while (!stop_requested()) {
    auto init = cluster.initialize();
    if (!init) {
      log_warn("cannot read the initialize key, retrying: " + init.error().message);
      nap_ms(1000);
      continue;
    }
    if (!*init) forget_terms_of_a_lost_cluster(node);
    if (!*init && has_standby_signal(node)) {
      // No cluster in etcd (a new one, or etcd lost its keys) and a standby here: a standby holds
      // at most what its primary has, so it must never become the origin. It starts as the
      // standby it is; the primary's sidecar (re)initializes the cluster.
      log_warn("etcd holds no `initialize` key for cluster `" + node.config.cluster + "` and " + node.config.data_dir +
               " is a standby: not adopting it as the cluster's origin. If etcd lost the cluster's keys, restart "
               "the sidecar of the node with the newest data (the primary) to initialize the cluster again");
      return ok_status();
    }
    if (!*init) {
      // An existing cluster and no pg_ha cluster yet (or etcd lost its keys): adopt it as the
      // cluster's origin.
      kv::Txn txn;
      txn.compare.push_back(kv::Compare::absent(cluster.keys().initialize()));
      txn.success.push_back(kv::RequestOp::put(cluster.keys().initialize(),
                                               core::encode(core::InitializeRecord{node.config.name, *sysid})));
      auto r = cluster.store().txn(txn);
      if (r && r->succeeded) {
        log_info("adopted the existing data directory (system identifier " + *sysid + ") as the cluster's origin");
        return ok_status();
      }
      if (!r) nap_ms(1000);   // etcd trouble; a lost race simply re-reads at once
      continue;
    }
    const auto& rec = (*init)->value;
    if (rec.system_identifier.empty()) {
      if (rec.node == node.config.name) {
        log_info("this node's bootstrap was interrupted after initdb: starting it again");
        return initialize_cluster(node, cluster, (*init)->mod_revision);
      }
      nap_ms(500);   // another node is still running initdb
      continue;
    }
    if (rec.system_identifier != *sysid) {
      return make_error(ErrorKind::Invalid, "data directory " + node.config.data_dir + " belongs to another cluster: system identifier " +
                                                *sysid + ", but cluster `" + node.config.cluster + "` has " +
                                                rec.system_identifier + ". Refusing to start it; move it away to re-clone.");
    }
    return ok_status();
  }
  return make_error(ErrorKind::Interrupted, "shutdown requested");
}

// Empty data directory: the race on `initialize`.
Status bootstrap_empty(const Node& node, ClusterView& cluster, std::string* cloned_from) {
  kv::Txn txn;
  txn.compare.push_back(kv::Compare::absent(cluster.keys().initialize()));
  txn.success.push_back(kv::RequestOp::put(cluster.keys().initialize(),
                                           core::encode(core::InitializeRecord{node.config.name, ""})));
  txn.failure.push_back(kv::RequestOp::get(cluster.keys().initialize()));
  auto r = cluster.store().txn(txn);
  if (!r) return r.error();
  if (r->succeeded) {
    log_info("won the bootstrap race: initializing a new cluster");
    return initialize_cluster(node, cluster, r->revision);
  }
  auto init = cluster.initialize();
  if (!init) return init.error();
  if (*init && (*init)->value.node == node.config.name && (*init)->value.system_identifier.empty()) {
    log_info("resuming this node's interrupted bootstrap");
    return initialize_cluster(node, cluster, (*init)->mod_revision);
  }
  log_info("cluster `" + node.config.cluster + "` exists: joining it by cloning the leader");
  return join_cluster(node, cluster, cloned_from);
}

// ---- the node's identity (docs/keys.md) ----

Result<std::string> random_member_id() {
  unsigned char bytes[16];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t got = fd < 0 ? -1 : read(fd, bytes, sizeof bytes);
  if (fd >= 0) close(fd);
  if (got != static_cast<ssize_t>(sizeof bytes)) return make_error(ErrorKind::Internal, "cannot read /dev/urandom");
  std::string hex;
  char buf[3];
  for (unsigned char b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

std::string describe(const std::optional<core::NodeIdentity>& identity) {
  return identity ? "identity " + identity->member_id : "no identity yet (a new node)";
}

// Two servers under one name would share its member record, its lease and so its leadership:
// a name held by a live member (its key exists only under a live lease) of another identity is
// refused before anything is touched.
Status check_name_free(const Node& node, ClusterView& cluster, const std::optional<core::NodeIdentity>& identity) {
  auto held = cluster.member(node.config.name);
  if (!held) return held.error();
  if (!*held) return ok_status();
  const core::MemberRecord& m = (*held)->value;
  if (m.member_id.empty() || (identity && m.member_id == identity->member_id)) return ok_status();
  return make_error(ErrorKind::Invalid,
                    "member name `" + node.config.name + "` is held by a live member with another identity: " +
                        cluster.keys().member(node.config.name) + " has identity " + m.member_id + " at " + m.host +
                        ":" + std::to_string(m.port) + ", this node has " + describe(identity) +
                        ". Refusing to start: give this node another `name`, or stop the other node first");
}

// The identity belongs to one PostgreSQL cluster: a data directory (or, when it is empty, a
// cluster in etcd) with another system identifier is refused before anything is touched.
Status check_identity_cluster(const Node& node, ClusterView& cluster, const core::NodeIdentity& identity) {
  if (identity.system_identifier.empty()) return ok_status();
  std::string found, where;
  if (inspect_data_dir(node.config.data_dir) == DataDirState::Cluster) {
    auto sysid = read_system_identifier(node);
    if (!sysid) return sysid.error();
    found = *sysid;
    where = "data directory " + node.config.data_dir;
  } else {
    auto init = cluster.initialize();
    if (!init) return init.error();
    if (*init) found = (*init)->value.system_identifier;
    where = "cluster `" + node.config.cluster + "`";
  }
  if (found.empty() || found == identity.system_identifier) return ok_status();
  return make_error(ErrorKind::Invalid, where + " has system identifier " + found + ", but this node (identity " +
                                            identity.member_id + ", " + node.state_file(core::kIdentityFile) +
                                            ") belongs to the cluster with system identifier " +
                                            identity.system_identifier +
                                            ". Refusing to start: use a new state_dir for a node of another cluster");
}

// Made once, when the node first has data; later starts only fill in a missing system identifier.
Status ensure_identity(const Node& node, ClusterView& cluster, std::optional<core::NodeIdentity> identity) {
  auto sysid = read_system_identifier(node);
  if (!sysid) return sysid.error();
  bool changed = !identity || identity->system_identifier != *sysid;
  if (!identity) {
    auto id = random_member_id();
    if (!id) return id.error();
    identity = core::NodeIdentity{*id, *sysid};
  }
  identity->system_identifier = *sysid;
  if (changed) {
    Status s = files::write_atomically(node.state_file(core::kIdentityFile), core::encode(*identity), files::WriteOptions{0644});
    if (!s) return s;
    log_info("node identity " + identity->member_id + " (system identifier " + *sysid + ") written to " +
             node.state_file(core::kIdentityFile));
  }
  cluster.set_member_id(identity->member_id);
  return ok_status();
}

Status prepare_data(const Node& node, ClusterView& cluster, std::string* cloned_from) {
  switch (inspect_data_dir(node.config.data_dir)) {
    case DataDirState::Missing:
    case DataDirState::Empty:
      return bootstrap_empty(node, cluster, cloned_from);
    case DataDirState::Cluster:
      return check_data_dir_cluster(node, cluster);
    case DataDirState::Other:
      break;
  }
  return make_error(ErrorKind::Invalid, "data directory " + node.config.data_dir +
                                            " is not empty and holds no PostgreSQL cluster: refusing to touch it");
}

}  // namespace

namespace {

// A clone that failed (its source died, say) must not leave the node with no data at all: that
// node could then only crash-loop until someone moved its data back by hand. Its own cluster
// goes back in place, as it was before the clone; whatever made a clone necessary (the rewind
// marker of a pg_rewind that did not finish) stays, so the next attempt clones again.
void restore_after_failed_clone(const Node& node, const std::string& previous) {
  if (inspect_data_dir(node.config.data_dir) == DataDirState::Empty) rmdir(node.config.data_dir.c_str());
  if (rename(previous.c_str(), node.config.data_dir.c_str()) != 0) {
    log_warn("the clone failed and " + previous + " could not be moved back to " + node.config.data_dir +
             ": move it back by hand, or let the next clone replace it");
    return;
  }
  clear_marker(node, kCloneMarker);
  log_info("the clone failed: moved this node's own data back from " + previous + " to " + node.config.data_dir);
}

}  // namespace

Status clone_from(const Node& node, ClusterView& cluster, const Upstream& from) {
  int64_t t0 = monotonic_ms();
  Status s = set_marker(node, kCloneMarker);
  if (!s) return s;
  DataDirState state = inspect_data_dir(node.config.data_dir);
  std::optional<std::string> previous;   // this node's own cluster, moved aside for the clone
  if (state == DataDirState::Cluster || state == DataDirState::Other) {
    auto aside = move_aside(node.config.data_dir);
    if (!aside) return aside.error();
    if (state == DataDirState::Cluster) previous = *aside;
  }
  log_info("cloning " + from.name + " (" + from.host + ":" + std::to_string(from.port) + ") with pg_basebackup");
  s = run_basebackup(node, from);
  if (!s) {
    if (inspect_data_dir(node.config.data_dir) != DataDirState::Empty &&
        inspect_data_dir(node.config.data_dir) != DataDirState::Missing) {
      auto aside = move_aside(node.config.data_dir);   // what a failed pg_basebackup left behind
      (void)aside;
    }
    if (previous) restore_after_failed_clone(node, *previous);
    return s;
  }
  s = write_standby_signal(node);
  if (s) s = write_node_files(node, from);
  if (!s) return s;
  unlink(node.state_file(kRewindMarker).c_str());
  clear_marker(node, kCloneMarker);
  (void)cluster;
  // Only now: had the clone failed, the newest copy aside would have been moved back.
  auto pruned = prune_old_data_dirs(node.config.data_dir, node.config.keep_old_data_dirs);
  if (!pruned) log_warn("cannot remove old data directories: " + pruned.error().message);
  else for (const auto& p : *pruned) log_info("removed old data directory " + p + " (keep_old_data_dirs " +
                                              std::to_string(node.config.keep_old_data_dirs) + ")");
  log_info("cloned " + from.name + " in " + std::to_string(monotonic_ms() - t0) + " ms");
  return ok_status();
}

Status prepare_data_dir(const Node& node, ClusterView& cluster, std::string* cloned_from) {
  cloned_from->clear();
  Status s = ensure_dir(node.config.state_dir, node.run_as, 0700);
  if (!s) return s;
  if (path_exists(marker(node, kCloneMarker))) {
    log_warn("a clone was interrupted: its data directory is incomplete and is moved aside");
    if (inspect_data_dir(node.config.data_dir) == DataDirState::Cluster ||
        inspect_data_dir(node.config.data_dir) == DataDirState::Other) {
      auto aside = move_aside(node.config.data_dir);
      if (!aside) return aside.error();
    }
    clear_marker(node, kCloneMarker);
  }
  auto identity = read_identity(node);
  if (!identity) return identity.error();
  s = check_name_free(node, cluster, *identity);
  if (s && *identity) s = check_identity_cluster(node, cluster, **identity);
  if (s) s = prepare_data(node, cluster, cloned_from);
  if (s) s = ensure_identity(node, cluster, *identity);
  return s;
}

void forget_terms_of_a_lost_cluster(const Node& node) {
  if (agent::forget_highest_term(node.config.state_dir))
    log_warn("etcd holds no `initialize` key: forgot the highest term this node has seen (" +
             std::string(agent::kHighestTermFile) + "), so that it accepts the terms of the cluster when it is "
             "initialized again");
}

bool finish_bootstrap(const Node& node, ClusterView& cluster) {
  if (!path_exists(marker(node, kExtensionMarker))) return true;
  if (!node.config.preloads_pg_ha()) {
    log_warn("pg_ha is not in shared_preload_libraries: not creating the extension (no HA on this node)");
    clear_marker(node, kExtensionMarker);
    return true;
  }
  auto leader = cluster.leader_name();
  if (!leader || *leader != node.config.name) return false;
  auto r = local_query(node, "CREATE EXTENSION IF NOT EXISTS pg_ha", 5);
  if (!r) {
    log_warn("CREATE EXTENSION pg_ha failed, will retry: " + r.error().message);
    return false;
  }
  clear_marker(node, kExtensionMarker);
  log_info("bootstrap complete: extension pg_ha created");
  return true;
}

}  // namespace pg_ha::sidecar
