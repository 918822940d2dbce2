// Wrappers around PostgreSQL's own tools (initdb, pg_controldata, pg_basebackup, pg_rewind) and
// the files the sidecar writes for postgres: the per-node postgresql.conf, pg_hba.conf,
// pg_ident.conf (all in state_dir) and standby.signal (in the data directory).
#pragma once

#include <optional>
#include <string>

#include "common/result.hpp"
#include "core/schema.hpp"
#include "node.hpp"

namespace pg_ha::sidecar {

struct Upstream {
  std::string name;
  std::string host;
  int port = 0;
};

enum class DataDirState { Missing, Empty, Cluster, Other };
DataDirState inspect_data_dir(const std::string& path);

Status run_initdb(const Node& node);
// The cluster's system identifier (decimal), from pg_controldata.
Result<std::string> read_system_identifier(const Node& node);
// pg_basebackup -X stream -c fast from upstream into the (missing or empty) data directory.
Status run_basebackup(const Node& node, const Upstream& from);

// Whether `from` accepts pg_rewind's connection (rewind_conninfo): checked before anything is
// stopped, so an unreachable or saturated source never leaves a node down.
Status check_source_reachable(const Node& node, const Upstream& from);

// pg_rewind's output says it could not connect to the source (so it changed nothing).
bool source_is_full(const std::string& libpq_message);
bool rewind_could_not_connect(const std::string& output);

enum class RewindOutcome { Rewound, NotNeeded };
// pg_rewind of the (stopped) data directory against upstream.
Result<RewindOutcome> run_rewind(const Node& node, const Upstream& from);

// Renames `path` to `<path>.old-<UTC timestamp>` (never deletes); returns the new name.
Result<std::string> move_aside(const std::string& path);

// Writes postgresql.conf, pg_hba.conf and pg_ident.conf into state_dir. `follow` (standby only)
// becomes an initial primary_conninfo that the worker's pg_ha.auto.conf, included last, overrides.
Status write_node_files(const Node& node, const std::optional<Upstream>& follow);
Status write_standby_signal(const Node& node);
bool has_standby_signal(const Node& node);

// This node's identity file (docs/keys.md), nullopt before bootstrap made one.
Result<std::optional<core::NodeIdentity>> read_identity(const Node& node);

// libpq conninfo for reaching `from` as the replication user (password from PGPASSFILE), or as
// `user` when given.
std::string upstream_conninfo(const Node& node, const Upstream& from, const std::string& dbname,
                              const std::string& user = "");
// The ordinary (non-replication) connection pg_rewind and its CHECKPOINT use: as rewind_user, a
// superuser that still gets in when the source's max_connections is full (config.hpp).
std::string rewind_conninfo(const Node& node, const Upstream& from);

// The password for `user` in a .pgpass-format file (first matching line), never logged.
Result<std::string> password_from_passfile(const std::string& path, const std::string& user);

}  // namespace pg_ha::sidecar
