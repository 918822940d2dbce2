// pg_ha's configuration parameters (pg_ha.*), defined in _PG_init. PGC_POSTMASTER for what names
// this node and its cluster (changing it at runtime would make the node someone else);
// PGC_SIGHUP for what can be re-read safely (addresses, tags, credentials, timeouts).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "core/config.hpp"
#include "etcd/options.hpp"

namespace pg_ha::pg {

void define_gucs();

// A copy of the current values, safe to keep across a reload.
struct Settings {
  std::string cluster_name;
  std::string node_name;                  // defaults to the host name when unset
  std::vector<std::string> etcd_endpoints;  // empty: standalone
  std::string key_prefix;
  std::string connect_host;
  int connect_port = 0;                   // resolved: pg_ha.connect_port, else `port`
  std::string api_url;
  std::string etcd_user;
  std::string etcd_password_file;
  std::string etcd_ca_file;
  std::string etcd_cert_file;
  std::string etcd_key_file;
  std::string state_dir;
  std::string admin_role;
  std::string replication_user;
  std::string replication_passfile;
  std::string replication_conninfo_options;   // validated by the GUC's check hook
  bool etcd_allow_insecure_auth = false;
  core::Tags tags;
  int etcd_timeout_ms = 1000;
  bool standalone() const { return etcd_endpoints.empty(); }
};

Settings current_settings();
core::NodeConfig node_config(const Settings& settings);
// What a node needs before it can join a cluster; the message names the missing parameter.
Status validate_cluster_settings(const Settings& settings);
// The etcd client options these settings name, for the worker and the SQL functions alike; the
// caller adds its interrupt check. The password is read from pg_ha.etcd_password_file only when
// pg_ha.etcd_user is set; it is never logged, and errors name the file only.
Result<etcd::Options> etcd_options(const Settings& settings);

// Cheap C-safe accessors for hooks and callbacks (no allocation, no exceptions).
bool standalone_configured();
const char* admin_role_name();
bool test_functions_enabled();

}  // namespace pg_ha::pg
