// One node's fixed facts: its configuration, the OS user its postgres runs as, and the paths the
// sidecar uses. Everything per node lives in state_dir, outside the data directory, so pg_rewind
// and pg_basebackup never overwrite it.
#pragma once

#include <string>

#include "config.hpp"
#include "process.hpp"

namespace pg_ha::sidecar {

struct Node {
  SidecarConfig config;
  RunAs run_as;

  std::string state_file(const std::string& name) const { return config.state_dir + "/" + name; }
  std::string conf_path() const { return state_file("postgresql.conf"); }
  std::string hba_path() const { return state_file("pg_hba.conf"); }
  std::string ident_path() const { return state_file("pg_ident.conf"); }
  std::string auto_conf_path() const { return state_file("pg_ha.auto.conf"); }
  std::string parameters_conf_path() const { return state_file("pg_ha.parameters.conf"); }
  std::string postgres_log() const {
    return config.postgres_log_file.empty() ? state_file("postgresql.log") : config.postgres_log_file;
  }
  std::string socket_dir() const { return config.effective_socket_dir(); }
  std::string tool(const std::string& name) const { return config.bin_dir + "/" + name; }
  std::string data_file(const std::string& name) const { return config.data_dir + "/" + name; }

  // Options for running a PostgreSQL tool as os_user. The replication password reaches libpq only
  // through PGPASSFILE, never a command line.
  SpawnOptions tool_options() const {
    SpawnOptions o;
    o.run_as = run_as;
    o.env["PGPASSFILE"] = config.replication_passfile;
    o.env["PGCONNECT_TIMEOUT"] = "5";
    o.output_file = state_file("last_command.log");   // the last tool's whole output, for the operator
    return o;
  }
};

}  // namespace pg_ha::sidecar
