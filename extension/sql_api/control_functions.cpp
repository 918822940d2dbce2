// Control functions: check the caller, validate the arguments, read the cluster from etcd, let
// the core plan the one transaction that records the request (core/control.hpp), run it, and
// say what was done. Nothing is written when any step fails; no lock is held while etcd is asked.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/candidates.hpp"
#include "core/config.hpp"
#include "core/control.hpp"
#include "core/schema.hpp"
#include "pg/gucs.hpp"
#include "pg/hba_rules.hpp"
#include "pg/interrupts.hpp"
#include "pg/parameter_rules.hpp"
#include "sql_api/etcd_session.hpp"
#include "sql_api/privileges.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {
namespace {

using json = nlohmann::json;
using Planner = std::function<Result<core::EtcdWrite>(const core::Keys&, const core::EtcdView&, const core::ClusterConfig&)>;

[[noreturn]] void raise_etcd_error(const Error& e) {
  switch (e.kind) {
    case ErrorKind::Unavailable:
    case ErrorKind::Timeout:
      throw pg::SqlError(ERRCODE_CONNECTION_FAILURE, "pg_ha: etcd is unreachable: " + e.message);
    case ErrorKind::Interrupted:
      throw pg::SqlError(ERRCODE_QUERY_CANCELED, "pg_ha: interrupted while waiting for etcd");
    case ErrorKind::Auth:
      throw pg::SqlError(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, "pg_ha: etcd refused access: " + e.message);
    default:
      throw pg::SqlError(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, "pg_ha: etcd error: " + e.message);
  }
}

// The core's refusal, with the SQLSTATE that fits it.
[[noreturn]] void raise_plan_error(const Error& e) {
  int code = e.kind == ErrorKind::Invalid    ? ERRCODE_INVALID_PARAMETER_VALUE
             : e.kind == ErrorKind::NotFound ? ERRCODE_UNDEFINED_OBJECT
                                             : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
  throw pg::SqlError(code, "pg_ha: " + e.message);
}

pg::Settings cluster_settings(const std::string& action) {
  pg::Settings s = pg::current_settings();
  if (s.standalone())
    throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       "pg_ha: this server runs standalone: there is no cluster to " + action, "",
                       "Set pg_ha.etcd_endpoints and pg_ha.cluster_name to run pg_ha as a cluster.");
  if (s.cluster_name.empty())
    throw pg::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "pg_ha: pg_ha.cluster_name is not set");
  return s;
}

struct ClusterRead {
  core::EtcdView view;
  core::ClusterConfig config;
};

ClusterRead read_cluster(EtcdSession& etcd, const core::Keys& keys) {
  Result<kv::PrefixSnapshot> read = etcd.read_prefix(keys.root());
  if (!read.ok()) raise_etcd_error(read.error());
  ClusterRead r{core::build_view(keys, read->kvs, read->revision), core::ClusterConfig{}};
  if (r.view.config) r.config = r.view.config->value;
  return r;
}

// Sleeps, giving way to a query cancel, statement_timeout or termination.
void pause_ms(int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (pg::backend_interrupt_pending())
      throw pg::SqlError(ERRCODE_QUERY_CANCELED, "pg_ha: interrupted while waiting for fresh reports");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Whether a refusal may be only a moment old: the cluster, read again, may allow the request.
using Patience = std::function<bool(const core::Keys&, const core::EtcdView&, const core::ClusterConfig&)>;

// Every member reports again within a loop: two of them settle a refusal that `patience` excuses.
int64_t patience_ms(const core::ClusterConfig& c) { return std::min<int64_t>(2 * c.loop_wait_ms, 10000); }

Datum run_control(const std::string& action, const Planner& plan, const Patience& patience = nullptr) {
  pg::Settings settings = cluster_settings(action);
  core::Keys keys(settings.key_prefix, settings.cluster_name);
  EtcdSession etcd(settings);
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    ClusterRead r = read_cluster(etcd, keys);
    Result<core::EtcdWrite> write = plan(keys, r.view, r.config);
    if (!write.ok()) {
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      if (!patience || !patience(keys, r.view, r.config) || waited.count() >= patience_ms(r.config)) raise_plan_error(write.error());
      pause_ms(200);
      continue;
    }
    Result<kv::TxnResult> done = etcd.txn(write->txn);
    if (!done.ok()) raise_etcd_error(done.error());
    if (!done->succeeded)
      throw pg::SqlError(ERRCODE_T_R_SERIALIZATION_FAILURE, "pg_ha: cluster state changed concurrently, retry");
    json out = {{"action", action}, {"done", write->what}, {"cluster", settings.cluster_name}, {"revision", done->revision}};
    return pg::jsonb_datum(out.dump());
  }
}

std::string required_text(FunctionCallInfo fcinfo, int arg, const char* what) {
  if (PG_ARGISNULL(arg))
    throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string("pg_ha: ") + what + " must not be null");
  return pg::text_arg(PG_GETARG_DATUM(arg));
}

void check_node_name(const std::string& name) {
  Status st = core::validate_node_name(name);
  if (!st.ok())
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: invalid node name \"" + name + "\"", st.error().message);
}

// A custom name ("module.setting") that no loaded module defines is kept by PostgreSQL as a
// placeholder, but only if each part is an identifier; anything else stops the server at start.
bool valid_custom_name(const std::string& name) {
  if (name.find('.') == std::string::npos) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    if (end == start || !(std::isalpha(static_cast<unsigned char>(name[start])) || name[start] == '_')) return false;
    start = end + 1;
  }
  return true;
}

// One postgresql parameter of the patch, judged by PostgreSQL's own GUC machinery before
// anything is written: the name exists (or is a well-formed custom name), it may appear in a
// configuration file, the caller may set it, and the value parses and lies in range. A removal
// (null) needs only the privilege: removing a bad entry is how a broken config is repaired.
void check_parameter(const std::string& name, const json& value) {
  pg::ParameterFacts facts = pg::parameter_facts(name);
  bool removal = value.is_null();
  if (!facts.known && !removal && !valid_custom_name(name))
    throw pg::SqlError(ERRCODE_UNDEFINED_OBJECT, "pg_ha: unrecognized configuration parameter \"" + name + "\"",
                       "postgresql.parameters may hold only parameters this server knows, or custom ones "
                       "(\"module.setting\").");
  if (facts.known && !facts.settable_in_file)
    throw pg::SqlError(ERRCODE_CANT_CHANGE_RUNTIME_PARAM,
                       "pg_ha: parameter \"" + name + "\" cannot be set in a configuration file");
  require_parameter_privilege(name, facts);
  if (removal || !facts.known) return;   // a placeholder takes any text; its module checks it
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  try {
    pg::check_parameter_value(name, text);
  } catch (const pg::PgError& e) {
    throw pg::SqlError(e.sqlstate(), std::string("pg_ha: ") + e.what(), e.detail(), e.hint());
  }
}

void check_parameters(const json& patch) {
  auto pg_section = patch.find("postgresql");
  if (pg_section == patch.end() || !pg_section->is_object()) return;
  auto params = pg_section->find("parameters");
  if (params == pg_section->end() || !params->is_object()) return;
  for (auto it = params->begin(); it != params->end(); ++it) check_parameter(it.key(), it.value());
}

json parse_patch(const std::string& patch_text) {
  json patch = json::parse(patch_text, nullptr, false);
  if (patch.is_discarded() || !patch.is_object())
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: the config patch must be a JSON object");
  return patch;
}

core::ClusterConfig apply_patch(const core::ClusterConfig& base, const json& patch) {
  json merged = json::parse(core::encode_cluster_config(base));
  merged.merge_patch(patch);
  merged["version"] = core::kSchemaVersion;
  Result<core::ClusterConfig> parsed = core::parse_cluster_config(merged.dump());
  if (!parsed.ok())
    throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: invalid config patch", parsed.error().message);
  return *parsed;
}

// Each pg_hba line the patch sets, judged by PostgreSQL's own parser after the core's checks: a
// rule the server would refuse at its next reload or start never reaches etcd.
void check_hba_rules(const std::vector<std::string>& rules) {
  for (const std::string& line : rules) {
    std::string problem = pg::hba_line_problem(line);
    if (!problem.empty())
      throw pg::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "pg_ha: invalid pg_hba rule \"" + line + "\"", problem);
  }
}

// Types and key names of a patch, and each parameter it sets or removes by name, can be checked
// without etcd: apply it to the defaults. The range rules that tie knobs together are checked by
// the core against the real config.
void check_config_patch(const json& patch) {
  core::ClusterConfig patched = apply_patch(core::ClusterConfig{}, patch);
  check_parameters(patch);
  auto pg_section = patch.find("postgresql");
  if (pg_section != patch.end() && pg_section->is_object() && pg_section->contains("pg_hba")) require_hba_privilege();
  check_hba_rules(patched.pg_hba);
}

// Also a patch that drops the rules wholesale ("postgresql": null) changes them.
void check_hba_change(const core::ClusterConfig& current, const json& patch) {
  if (apply_patch(current, patch).pg_hba != current.pg_hba) require_hba_privilege();
}

// A patch may also drop parameters wholesale ("parameters": null): each one that the real config
// loses needs the privilege to remove it.
void check_removed_parameters(const core::ClusterConfig& current, const json& patch) {
  core::ClusterConfig next = apply_patch(current, patch);
  for (const auto& [name, value] : current.postgresql_parameters)
    if (!next.postgresql_parameters.count(name)) check_parameter(name, json());
}

Datum switchover(FunctionCallInfo fcinfo) {
  require_cluster_admin("switchover");
  std::string candidate = PG_ARGISNULL(0) ? "" : pg::text_arg(PG_GETARG_DATUM(0));
  if (!candidate.empty()) check_node_name(candidate);
  return run_control(
      "switch over",
      [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig& c) {
        return core::plan_switchover(k, v, c, candidate);
      },
      [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig& c) {
        return core::switchover_refused_only_for_lag(k, v, c, candidate);
      });
}

Datum failover(FunctionCallInfo fcinfo) {
  require_cluster_admin("failover");
  std::string candidate = required_text(fcinfo, 0, "candidate");
  check_node_name(candidate);
  if (PG_ARGISNULL(1)) throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "pg_ha: force must not be null");
  bool force = PG_GETARG_BOOL(1);
  return run_control("fail over", [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig& c) {
    return core::plan_failover(k, v, c, candidate, force);
  });
}

Datum pause(FunctionCallInfo) {
  require_cluster_admin("pause");
  return run_control("pause", [](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig&) {
    return core::plan_pause(k, v, true);
  });
}

Datum resume(FunctionCallInfo) {
  require_cluster_admin("resume");
  return run_control("resume", [](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig&) {
    return core::plan_pause(k, v, false);
  });
}

Datum set_config(FunctionCallInfo fcinfo) {
  require_cluster_admin("set_config");
  if (PG_ARGISNULL(0)) throw pg::SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "pg_ha: patch must not be null");
  std::string patch = pg::jsonb_text(PG_GETARG_DATUM(0));
  json parsed = parse_patch(patch);
  check_config_patch(parsed);
  return run_control("change the config", [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig& c) {
    check_removed_parameters(c, parsed);
    check_hba_change(c, parsed);
    return core::plan_config_patch(k, v, patch);
  });
}

Datum restart(FunctionCallInfo fcinfo) {
  require_cluster_admin("restart");
  std::string node = required_text(fcinfo, 0, "node");
  check_node_name(node);
  return run_control("restart a node", [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig&) {
    return core::plan_restart(k, v, node);
  });
}

Datum reinit(FunctionCallInfo fcinfo) {
  require_cluster_admin("reinit");
  std::string node = required_text(fcinfo, 0, "node");
  check_node_name(node);
  return run_control("reinitialize a node", [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig&) {
    return core::plan_reinit(k, v, node);
  });
}

Datum remove(FunctionCallInfo fcinfo) {
  require_cluster_admin("remove");
  std::string node = required_text(fcinfo, 0, "node");
  check_node_name(node);
  return run_control("remove a member", [&](const core::Keys& k, const core::EtcdView& v, const core::ClusterConfig&) {
    return core::plan_remove(k, v, node);
  });
}

}  // namespace
}  // namespace pg_ha::sql_api

PG_HA_SQL_FUNCTION(pg_ha_switchover, pg_ha::sql_api::switchover)
PG_HA_SQL_FUNCTION(pg_ha_failover, pg_ha::sql_api::failover)
PG_HA_SQL_FUNCTION(pg_ha_pause, pg_ha::sql_api::pause)
PG_HA_SQL_FUNCTION(pg_ha_resume, pg_ha::sql_api::resume)
PG_HA_SQL_FUNCTION(pg_ha_set_config, pg_ha::sql_api::set_config)
PG_HA_SQL_FUNCTION(pg_ha_restart, pg_ha::sql_api::restart)
PG_HA_SQL_FUNCTION(pg_ha_reinit, pg_ha::sql_api::reinit)
PG_HA_SQL_FUNCTION(pg_ha_remove, pg_ha::sql_api::remove)
