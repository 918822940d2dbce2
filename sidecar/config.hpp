// The sidecar's static configuration: a PostgreSQL-style file (`key = value`, # comments, values
// optionally in single quotes) plus one command-line flag per key, flags winning. An unknown key
// is an error that names its line: a typo must not silently fall back to a default.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "core/types.hpp"

namespace pg_ha::sidecar {

struct SidecarConfig {
  std::string name;                 // this node's member name
  std::string cluster;              // cluster name (etcd key <prefix>/<cluster>/)
  std::string data_dir;
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string state_dir;            // per-node settings, request channel, logs: outside data_dir
  std::string listen_host = "127.0.0.1";
  int port = 5432;
  std::string connect_host;         // how peers reach this postgres (default: listen_host)
  std::string socket_dir;           // private unix socket directory (default: <state_dir>/run)
  std::string http_listen = "127.0.0.1:8008";
  std::string etcd_endpoints = "http://127.0.0.1:2379";
  std::string etcd_user;
  std::string etcd_password_file;
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  bool etcd_allow_insecure_auth = false;   // etcd_user over http:// (password in clear text)
  std::string key_prefix = "/pg_ha";
  std::string os_user = "postgres";
  std::string superuser = "postgres";
  std::string replication_user = "replicator";
  std::string replication_passfile; // .pgpass format, readable only by os_user (mode 0600)
  // A superuser role for pg_rewind's source connection and the CHECKPOINT before it ("" = the
  // replication user). PostgreSQL 15 keeps superuser_reserved_connections for superusers only: with
  // it, a demote still rewinds when the new primary's max_connections is full. Its password is the
  // replication_passfile line for this user; the bootstrap creates the role.
  std::string rewind_user;
  int keep_old_data_dirs = 1;       // data directories moved aside by a re-clone that are kept
  std::string replication_networks = "127.0.0.1/32,::1/128";   // hba lines for replication
  // Networks ordinary clients may connect from with a password (scram-sha-256), after the
  // cluster's postgresql.pg_hba rules (hba.hpp); CIDRs only.
  std::string client_networks = "127.0.0.1/32,::1/128";
  // libpq TLS options for following and cloning ("sslmode=verify-full sslrootcert=..."), also
  // handed to the worker (pg_ha.replication_conninfo_options); agent::parse_conninfo_options.
  std::string replication_conninfo_options;
  std::string shared_preload_libraries = "pg_ha";
  std::string wal_keep_size = "256MB";
  // The most WAL replication slots may hold back before PostgreSQL invalidates the slot of the
  // laggard (docs/operations.md, "Replication slots"); the cluster config's
  // postgresql.parameters overrides it at run time (a reload).
  std::string max_slot_wal_keep_size = "8GB";
  int max_wal_senders = 10;
  int max_replication_slots = 10;
  int max_connections = 100;
  bool tool_sync = true;            // off: initdb/pg_basebackup/pg_rewind skip fsync (tests only)
  std::string log_file;             // sidecar log ("" = stderr)
  std::string postgres_log_file;    // postgres stderr ("" = <state_dir>/postgresql.log)
  core::Tags tags;

  // Derived values.
  std::string effective_connect_host() const { return connect_host.empty() ? listen_host : connect_host; }
  std::string effective_socket_dir() const { return socket_dir.empty() ? state_dir + "/run" : socket_dir; }
  std::string api_url() const { return "http://" + http_listen; }
  bool preloads_pg_ha() const;
  const std::string& effective_rewind_user() const { return rewind_user.empty() ? replication_user : rewind_user; }
};

// Parses a configuration file's text into key/value pairs; `origin` names the file in errors.
Result<std::map<std::string, std::string>> parse_config_text(const std::string& text, const std::string& origin);

// Applies one key to the config; an unknown key or a bad value is an Invalid error.
Status apply_config_key(SidecarConfig* config, const std::string& key, const std::string& value);

// Checks required keys and derived rules (absolute paths, port range, a valid node name).
Status validate_config(const SidecarConfig& config);

// Parses argv: `--config FILE` first, then every other `--key value` / `--key=value` flag (dashes
// and underscores are the same). Sets *help when --help was given.
Result<SidecarConfig> load_config(const std::vector<std::string>& args, bool* help);

std::string config_usage();

// Splits "host:port" (also "[::1]:port").
// "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text);

bool split_host_port(const std::string& text, std::string* host, int* port);

}  // namespace pg_ha::sidecar
