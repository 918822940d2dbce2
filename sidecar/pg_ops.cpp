#include "pg_ops.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <sstream>
#include <vector>

#include <libpq-fe.h>

#include "agent/auto_conf.hpp"
#include "core/hba.hpp"
#include "core/sync_names.hpp"
#include "hba.hpp"
#include "log.hpp"
#include "wiring.hpp"
#include "common/quoting.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

constexpr int64_t kToolTimeoutMs = 30 * 60 * 1000;   // a basebackup of a big cluster takes long

std::string first_lines(const std::string& text, size_t max_chars) {
  std::string t = text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

// Runs one tool as os_user; a non-zero exit becomes an error carrying the tool's own words.
Result<CommandResult> run_tool(const Node& node, const std::vector<std::string>& argv) {
  log_info("running " + join_argv(argv));
  auto r = run_command(argv, node.tool_options(), kToolTimeoutMs);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    return make_error(ErrorKind::Internal, argv[0].substr(argv[0].rfind('/') + 1) + " failed (exit code " +
                                               std::to_string(r->exit_code) + "): " + first_lines(r->output, 1500));
  }
  return r;
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// tool_sync = off (test clusters only): skip the tools' fsync, which dominates their run time.
std::vector<std::string> no_sync(const Node& node) {
  if (node.config.tool_sync) return {};
  return {"--no-sync"};
}

std::string utc_stamp() {
  time_t now = time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
  return buf;
}

std::string render_conf(const Node& node, const std::optional<Upstream>& follow) {
  const SidecarConfig& c = node.config;
  std::ostringstream o;
  auto set = [&o](const std::string& k, const std::string& v) { o << k << " = " << quoting::conf_value(v) << "\n"; };
  auto num = [&o](const std::string& k, long v) { o << k << " = " << v << "\n"; };
  o << "# Written by pg_ha_sidecar at every start; edits are lost. Change the sidecar's configuration\n"
       "# instead, or the cluster's `config` key for dynamic parameters (pg_ha.auto.conf, included last).\n"
       "# The node's wiring is on the postmaster's command line, where no file overrides it (SHOW them):\n#";
  for (const auto& w : wiring_settings(node)) o << " " << w.name;
  o << "\n";
  num("max_connections", c.max_connections);
  set("cluster_name", c.name);
  set("wal_level", "replica");
  set("hot_standby", "on");
  set("wal_log_hints", "on");           // pg_rewind needs it (checksums also do; both are cheap)
  set("wal_keep_size", c.wal_keep_size);  // keeps the WAL a rewind or a lagging standby needs
  // Member slots keep WAL for a replica that is down or behind; this caps it, so a dead member
  // cannot fill the primary's disk before member_slots_ttl drops its slot.
  set("max_slot_wal_keep_size", c.max_slot_wal_keep_size);
  num("max_wal_senders", c.max_wal_senders);
  num("max_replication_slots", c.max_replication_slots);
  // PostgreSQL releases commits waiting for a synchronous standby only when a standby reply
  // arrives. A standby newly named in synchronous_standby_names that already holds the waiting
  // commits sends none until new WAL comes or this interval passes (10 s by default): with few
  // writers, replacing a stopped sync standby stalled commits for 10 s.
  set("wal_receiver_status_interval", "1s");
  // A standby whose primary restarted or changed retries streaming after this (5 s by default,
  // which is also how long sync-mode commits waited after a primary restart in place).
  set("wal_retrieve_retry_interval", "500ms");
  // A standby that stays connected but confirms nothing (hung, stopped, cut off) held every
  // synchronous commit until the primary dropped it after wal_sender_timeout (60 s by default);
  // only then could the worker name a healthy one. Standbys reply at least every second (above),
  // so 5 s is five missed replies. Override it in the cluster config for slow links.
  set("wal_sender_timeout", "5s");
  // The other direction: a standby cut off from its primary kept streaming (by state) for as long
  // as this timeout, 60 s by default, while falling behind. It also makes the receiver ask for a
  // reply after 2.5 s of silence, so the worker can tell a quiet link from a dead one by the time
  // of the last message (worker/local_observation.cpp).
  set("wal_receiver_timeout", "5s");
  set("log_line_prefix", "%m [%p] ");
  set("pg_ha.nofailover", c.tags.nofailover ? "on" : "off");
  num("pg_ha.priority", c.tags.priority);
  set("pg_ha.nosync", c.tags.nosync ? "on" : "off");
  set("pg_ha.noloadbalance", c.tags.noloadbalance ? "on" : "off");
  if (follow) set("primary_conninfo", upstream_conninfo(node, *follow, ""));
  set("include_if_exists", node.parameters_conf_path());   // the cluster config's postgresql.parameters
  set("include_if_exists", node.auto_conf_path());   // last: the worker's settings win
  return o.str();
}

std::string render_ident(const Node& node) {
  const SidecarConfig& c = node.config;
  std::ostringstream o;
  o << "# Written by pg_ha_sidecar.\n";
  o << "pg_ha root " << c.superuser << "\n";
  o << "pg_ha " << c.os_user << " " << c.superuser << "\n";
  o << "pg_ha /^(.*)$ \\1\n";
  return o.str();
}

// Splits one .pgpass line on unescaped colons.
std::vector<std::string> passfile_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) fields.back() += line[++i];
    else if (line[i] == ':' && fields.size() < 5) fields.emplace_back();
    else fields.back() += line[i];
  }
  return fields;
}

}  // namespace

DataDirState inspect_data_dir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (!d) return DataDirState::Missing;
  bool empty = true;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && n != "lost+found") empty = false;
  }
  closedir(d);
  if (empty) return DataDirState::Empty;
  return path_exists(path + "/PG_VERSION") && path_exists(path + "/global/pg_control") ? DataDirState::Cluster
                                                                                       : DataDirState::Other;
}

Status run_initdb(const Node& node) {
  Status dir = ensure_dir(node.config.data_dir, node.run_as, 0700);
  if (!dir) return dir;
  auto r = run_tool(node, std::vector<std::string>{node.tool("initdb"), "-D", node.config.data_dir, "--data-checksums", "-U",
                           node.config.superuser, "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=peer",
                           "--auth-host=scram-sha-256"} + no_sync(node));
  if (!r) return r.error();
  return ok_status();
}

Result<std::string> read_system_identifier(const Node& node) {
  auto r = run_tool(node, {node.tool("pg_controldata"), "-D", node.config.data_dir});
  if (!r) return r.error();
  std::istringstream in(r->output);
  std::string line;
  const std::string label = "Database system identifier:";
  while (std::getline(in, line)) {
    if (line.rfind(label, 0) != 0) continue;
    std::string v = line.substr(label.size());
    size_t b = v.find_first_not_of(" \t");
    if (b != std::string::npos) return v.substr(b);
  }
  return make_error(ErrorKind::Protocol, "pg_controldata printed no system identifier for " + node.config.data_dir);
}

Status run_basebackup(const Node& node, const Upstream& from) {
  Status dir = ensure_dir(node.config.data_dir, node.run_as, 0700);
  if (!dir) return dir;
  auto r = run_tool(node, std::vector<std::string>{node.tool("pg_basebackup"), "-D", node.config.data_dir, "-X", "stream", "-c", "fast",
                           "-d", upstream_conninfo(node, from, ""), "-w"} + no_sync(node));
  if (!r) return r.error();
  return ok_status();
}

Status check_source_reachable(const Node& node, const Upstream& from) {
  PGconn* conn = PQconnectdb(rewind_conninfo(node, from).c_str());
  Status s = ok_status();
  if (PQstatus(conn) != CONNECTION_OK) {
    s = make_error(ErrorKind::Unavailable, "cannot connect to " + from.name + ": " + PQerrorMessage(conn));
  }
  PQfinish(conn);
  return s;
}

// pg_rewind reads the source's timeline from its control file, which a just-promoted server
// updates only at its first checkpoint: without this, a fresh primary looks like the same
// timeline and pg_rewind wrongly reports "no rewind required".
Status checkpoint_source(const Node& node, const Upstream& from) {
  PGconn* conn = PQconnectdb(rewind_conninfo(node, from).c_str());
  Status s = ok_status();
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    s = make_error(source_is_full(why) ? ErrorKind::Unavailable : ErrorKind::Internal,
                   "cannot connect to " + from.name + " for a checkpoint: " + why);
  } else {
    PGresult* r = PQexec(conn, "CHECKPOINT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      s = make_error(ErrorKind::Internal, "CHECKPOINT on " + from.name + " failed: " + PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(conn);
  return s;
}

// A source that is up but has no connection slot left: worth a retry, not a re-clone. Any other
// refusal (the source is down, killed during the hand-over) is a failed request, so that the
// worker decides again (an election) instead of the sidecar stopping postgres for the same
// request every second (seen: a switchover target killed while the old primary was demoted).
bool source_is_full(const std::string& libpq_message) {
  return libpq_message.find("too many clients") != std::string::npos ||
         libpq_message.find("remaining connection slots are reserved") != std::string::npos;
}

bool rewind_could_not_connect(const std::string& output) {
  // libpq's "connection to server at ... failed: FATAL:  sorry, too many clients already" (or
  // "remaining connection slots are reserved ..."), and pg_rewind's own word before it, if any.
  return output.find("connection to server") != std::string::npos && output.find("failed") != std::string::npos &&
         source_is_full(output) && output.find("fetching") == std::string::npos &&
         output.find("servers diverged") == std::string::npos;
}

Result<RewindOutcome> run_rewind(const Node& node, const Upstream& from) {
  Status checkpoint = checkpoint_source(node, from);
  if (!checkpoint) return checkpoint.error();
  auto r = run_tool(node, std::vector<std::string>{node.tool("pg_rewind"), "--target-pgdata=" + node.config.data_dir,
                           "--source-server=" + rewind_conninfo(node, from), "--progress"} +
                              no_sync(node));
  if (!r) {
    // pg_rewind connects before it touches anything: a source that refused the connection (too
    // many clients, a restart) leaves the target as it was, worth a retry, not a re-clone.
    if (rewind_could_not_connect(r.error().message)) return make_error(ErrorKind::Unavailable, r.error().message);
    return r.error();
  }
  if (r->output.find("no rewind required") != std::string::npos) return RewindOutcome::NotNeeded;
  return RewindOutcome::Rewound;
}

Result<std::string> move_aside(const std::string& path) {
  std::string target = path + ".old-" + utc_stamp();
  for (int i = 1; path_exists(target); ++i) target = path + ".old-" + utc_stamp() + "-" + std::to_string(i);
  if (rename(path.c_str(), target.c_str()) != 0)
    return make_error(ErrorKind::Internal, "cannot rename " + path + " to " + target);
  log_info("moved " + path + " aside to " + target + " (kept: the newest keep_old_data_dirs copies stay)");
  return target;
}

Status write_node_files(const Node& node, const std::optional<Upstream>& follow) {
  Status s = ensure_dir(node.socket_dir(), node.run_as, 0700);
  if (!s) return s;
  s = files::write_atomically(node.conf_path(), render_conf(node, follow), files::WriteOptions{0600});
  if (!s) return s;
  // The cluster's rules as the worker last wrote them: start_postgres renders them from etcd.
  std::vector<std::string> cluster_rules;
  if (auto current = read_whole_file(node.hba_path()))
    cluster_rules = core::cluster_hba_rules(*current).value_or(std::vector<std::string>{});
  s = files::write_atomically(node.hba_path(), render_hba(node.config, cluster_rules), files::WriteOptions{0600});
  if (!s) return s;
  return files::write_atomically(node.ident_path(), render_ident(node), files::WriteOptions{0600});
}

Status write_standby_signal(const Node& node) {
  return files::write_atomically(node.data_file("standby.signal"), "", files::WriteOptions{0600});
}

bool has_standby_signal(const Node& node) { return path_exists(node.data_file("standby.signal")); }

std::string rewind_conninfo(const Node& node, const Upstream& from) {
  return upstream_conninfo(node, from, "postgres", node.config.effective_rewind_user());
}

Result<std::optional<core::NodeIdentity>> read_identity(const Node& node) {
  std::string path = node.state_file(core::kIdentityFile);
  if (!path_exists(path)) return std::optional<core::NodeIdentity>();
  auto text = read_whole_file(path);
  if (!text) return text.error();
  auto identity = core::decode_identity(*text);
  if (!identity) return make_error(ErrorKind::Invalid, path + ": " + identity.error().message);
  return std::optional<core::NodeIdentity>(*identity);
}

// The name this node streams under: with its identity once it has one, so that the primary counts
// its acknowledgements for this node only (core/sync_names.hpp, FINDINGS.md F16).
std::string streaming_application_name(const Node& node) {
  auto identity = read_identity(node);
  std::string id = identity && *identity ? (*identity)->member_id : "";
  return core::standby_application_name(node.config.name, id);
}

std::string upstream_conninfo(const Node& node, const Upstream& from, const std::string& dbname, const std::string& user) {
  std::string s = "host=" + quoting::conninfo_value(from.host) + " port=" + std::to_string(from.port) +
                  " user=" + quoting::conninfo_value(user.empty() ? node.config.replication_user : user) +
                  " passfile=" + quoting::conninfo_value(node.config.replication_passfile) +
                  " application_name=" + quoting::conninfo_value(streaming_application_name(node)) + " connect_timeout=5";
  auto options = agent::parse_conninfo_options(node.config.replication_conninfo_options);   // checked at load
  if (options)
    for (const auto& [key, value] : *options) s += " " + key + "=" + quoting::conninfo_value(value);
  if (!dbname.empty()) s += " dbname=" + quoting::conninfo_value(dbname);
  return s;
}

Result<std::string> password_from_passfile(const std::string& path, const std::string& user) {
  auto text = read_whole_file(path);
  if (!text) return make_error(ErrorKind::Invalid, "cannot read replication_passfile " + path);
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto f = passfile_fields(line);
    if (f.size() == 5 && (f[3] == user || f[3] == "*") && !f[4].empty()) return f[4];
  }
  return make_error(ErrorKind::Invalid, "replication_passfile " + path + " has no password for user `" + user + "`");
}

}  // namespace pg_ha::sidecar
