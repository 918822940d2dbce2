// What ties postgres to this node and to pg_ha, and what must therefore not be overridden.
//
// PostgreSQL reads postgresql.auto.conf (ALTER SYSTEM's file, in the data directory) after every
// file config_file includes, so a value there beat the sidecar's postgresql.conf and the worker's
// pg_ha.auto.conf. Such a file travels with the data directory (an adopted cluster, a copy, every
// pg_basebackup clone), and `shared_preload_libraries = 'pg_stat_statements'` in it, a common
// ALTER SYSTEM, started the node without pg_ha: no write fence, no worker.
// - The wiring (addresses, socket, pg_hba/pg_ident, shared_preload_libraries, the node's pg_ha.*
//   identity and etcd access) goes on the postmaster's command line, which PostgreSQL ranks above
//   every file. The tags (pg_ha.nofailover, ...) stay in postgresql.conf, where a SIGHUP of the
//   sidecar changes them without a restart.
// - The worker's parameters (agent::kAutoConfParameters) change at run time and cannot go on the
//   command line: the sidecar removes them from postgresql.auto.conf before postgres starts.
// The extension refuses ALTER SYSTEM SET of both (extension/pg/alter_system_guard.cpp).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "node.hpp"

namespace pg_ha::sidecar {

struct Setting {
  std::string name;
  std::string value;
};

std::vector<Setting> wiring_settings(const Node& node);
// The same as "name=value", one per `-c` of the postmaster's command line.
std::vector<std::string> wiring_options(const Node& node);

struct AutoConfCleanup {
  std::string text;                       // the file without the worker's parameters
  std::vector<std::string> removed;       // names removed, in file order (values are never kept)
  std::vector<std::string> ineffective;   // wiring names found: the command line wins over them
};
// The setting a line of a PostgreSQL configuration file assigns, lower-cased ("" for a comment,
// a blank line or a line that is not an assignment).
std::string conf_line_name(const std::string& line);
AutoConfCleanup clean_postgresql_auto_conf(const std::string& text, const std::vector<std::string>& wiring_names);
// Cleans the data directory's postgresql.auto.conf (postgres must be down) and logs what it did.
Status clean_postgresql_auto_conf_file(const Node& node);

}  // namespace pg_ha::sidecar
