// <state_dir>/pg_ha.auto.conf: the worker's own PostgreSQL settings file. The sidecar's
// postgresql.conf includes it (include_if_exists), so rewriting it and reloading changes
// primary_conninfo (PostgreSQL 13+ reloads it without restart), synchronous_standby_names and the
// cluster's dynamic parameters. The worker owns the whole file and rewrites it whole.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace pg_ha::worker {

constexpr const char* kAutoConfFile = "pg_ha.auto.conf";

struct AutoConf {
  std::string upstream;          // member we follow ("" = none); a comment line, for observation
  std::string primary_conninfo;  // "" = not set
  std::optional<std::string> synchronous_standby_names;
  std::map<std::string, std::string> parameters;   // dynamic parameters from the cluster config
  bool operator==(const AutoConf& o) const {
    return upstream == o.upstream && primary_conninfo == o.primary_conninfo &&
           synchronous_standby_names == o.synchronous_standby_names && parameters == o.parameters;
  }
};

std::string auto_conf_path(const std::string& state_dir);
// Parameter names must be plain identifiers ([a-z0-9_.]); anything else is refused.
Result<std::string> render_auto_conf(const AutoConf& conf);
Result<AutoConf> parse_auto_conf(const std::string& text);
// The current file; an empty AutoConf when it is missing or unreadable.
AutoConf read_auto_conf(const std::string& state_dir);
Status write_auto_conf(const std::string& state_dir, const AutoConf& conf);

// libpq conninfo for streaming from `host:port`, naming this node as application_name (the
// primary matches synchronous_standby_names and member names on it).
std::string make_primary_conninfo(const std::string& host, int port, const std::string& application_name);

}  // namespace pg_ha::worker
