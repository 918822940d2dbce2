#include "core/config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/canaries.hpp"
#include "core/hba.hpp"
#include "core/json_fields.hpp"
#include "core/schema.hpp"
#include "core/slots.hpp"
#include "core/sync_names.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

using json_fields::json;

const char* sync_mode_name(SyncMode mode) {
  switch (mode) {
    case SyncMode::Off: return "off";
    case SyncMode::On: return "on";
    case SyncMode::Quorum: return "quorum";
  }
  return "off";
}

static Result<SyncMode> sync_mode_from_name(const std::string& name) {
  if (name == "off") return SyncMode::Off;
  if (name == "on") return SyncMode::On;
  if (name == "quorum") return SyncMode::Quorum;
  return make_error(ErrorKind::Invalid, "synchronous_mode must be \"off\", \"on\" or \"quorum\", not \"" + name + "\"");
}

static const std::set<std::string>& known_config_fields() {
  static const std::set<std::string> fields = {
      "version", "ttl", "loop_wait_ms", "fence_after_ms", "fence_margin_ms", "max_clock_drift",
      "election_wait_ms", "switchover_timeout_ms", "maximum_lag_on_failover", "primary_start_timeout",
      "synchronous_mode", "synchronous_mode_strict", "synchronous_node_count", "maximum_lag_on_syncnode", "history_limit", "fast_takeover", "use_slots", "member_slots_ttl", "slots", "postgresql"};
  return fields;
}

// "postgresql": {"pg_hba": ["host all app 10.0.0.0/8 scram-sha-256", ...]}: each line a valid
// record (core/hba.hpp); a bad one refuses the whole config, the error names it.
static Status read_hba(const json& pg, ClusterConfig* c) {
  auto hba = pg.find("pg_hba");
  if (hba == pg.end() || hba->is_null()) return ok_status();
  if (!hba->is_array()) return make_error(ErrorKind::Invalid, "\"postgresql.pg_hba\" must be a list of pg_hba.conf lines");
  for (const json& line : *hba) {
    if (!line.is_string()) return make_error(ErrorKind::Invalid, "\"postgresql.pg_hba\" entries must be strings, not " + line.dump());
    c->pg_hba.push_back(line.get<std::string>());
  }
  if (Status v = validate_hba_rules(c->pg_hba); !v.ok()) return make_error(ErrorKind::Invalid, "postgresql.pg_hba: " + v.error().message);
  return ok_status();
}

static Status read_parameters(const json& obj, ClusterConfig* c) {
  auto pg = obj.find("postgresql");
  if (pg == obj.end() || pg->is_null()) return ok_status();
  if (!pg->is_object()) return make_error(ErrorKind::Invalid, "\"postgresql\" must be an object");
  for (auto it = pg->begin(); it != pg->end(); ++it) {
    if (it.key() != "parameters" && it.key() != "pg_hba") return make_error(ErrorKind::Invalid, "unknown key \"postgresql." + it.key() + "\"");
  }
  if (Status h = read_hba(*pg, c); !h.ok()) return h;
  auto params = pg->find("parameters");
  if (params == pg->end() || params->is_null()) return ok_status();
  if (!params->is_object()) return make_error(ErrorKind::Invalid, "\"postgresql.parameters\" must be an object");
  for (auto it = params->begin(); it != params->end(); ++it) {
    const json& v = it.value();
    if (v.is_string()) c->postgresql_parameters[it.key()] = v.get<std::string>();
    else if (v.is_number_integer() || v.is_number_float() || v.is_boolean()) c->postgresql_parameters[it.key()] = v.dump();
    else return make_error(ErrorKind::Invalid, "postgresql parameter \"" + it.key() + "\" must be a string, number or boolean");
  }
  return ok_status();
}

// "slots": {"<name>": {"type": "physical"}}. A bad name or type refuses the whole config.
static Status read_slots(const json& obj, ClusterConfig* c) {
  auto slots = obj.find("slots");
  if (slots == obj.end() || slots->is_null()) return ok_status();
  if (!slots->is_object()) return make_error(ErrorKind::Invalid, "\"slots\" must be an object of name: {\"type\": \"physical\"}");
  for (auto it = slots->begin(); it != slots->end(); ++it) {
    if (it.value().is_null()) continue;   // a merge patch's leftover: no slot
    if (Status n = validate_slot_name(it.key()); !n.ok()) return make_error(ErrorKind::Invalid, "slots: " + n.error().message);
    const json& slot = it.value();
    if (!slot.is_object()) return make_error(ErrorKind::Invalid, "slot \"" + it.key() + "\" must be an object like {\"type\": \"physical\"}");
    for (auto f = slot.begin(); f != slot.end(); ++f)
      if (f.key() != "type") return make_error(ErrorKind::Invalid, "unknown key \"slots." + it.key() + "." + f.key() + "\"");
    std::string type = "physical";
    if (Status t = json_fields::read(slot, "type", &type); !t.ok()) return make_error(ErrorKind::Invalid, "slot \"" + it.key() + "\": " + t.error().message);
    if (type != "physical")
      return make_error(ErrorKind::Invalid, "slot \"" + it.key() + "\" has type \"" + type + "\": only \"physical\" slots are supported");
    c->permanent_slots[it.key()] = type;
  }
  return ok_status();
}

Result<ClusterConfig> parse_cluster_config(const std::string& text) {
  auto parsed = json_fields::parse_object(text, "config");
  if (!parsed.ok()) return make_error(ErrorKind::Invalid, parsed.error().message);
  const json& obj = *parsed;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known_config_fields().count(it.key())) {
      return make_error(ErrorKind::Invalid, "unknown config key \"" + it.key() + "\"");
    }
  }
  if (obj.contains("version")) {
    if (Status v = json_fields::check_version(obj, "config"); !v.ok()) return make_error(ErrorKind::Invalid, v.error().message);
  }
  ClusterConfig c;
  std::string mode = sync_mode_name(c.synchronous_mode);
  Status checks[] = {
      json_fields::read(obj, "ttl", &c.ttl_s, 1, 86400),
      json_fields::read(obj, "loop_wait_ms", &c.loop_wait_ms, 1, 3600000),
      json_fields::read(obj, "fence_after_ms", &c.fence_after_ms, 1, 3600000),
      json_fields::read(obj, "fence_margin_ms", &c.fence_margin_ms, 0, 3600000),
      json_fields::read(obj, "max_clock_drift", &c.max_clock_drift, 0.0, 0.5),
      json_fields::read(obj, "election_wait_ms", &c.election_wait_ms, 0, 3600000),
      json_fields::read(obj, "switchover_timeout_ms", &c.switchover_timeout_ms, 1, 3600000),
      json_fields::read(obj, "maximum_lag_on_failover", &c.maximum_lag_on_failover, 0, INT64_MAX),
      json_fields::read(obj, "primary_start_timeout", &c.primary_start_timeout_s, 0, 86400),
      json_fields::read(obj, "synchronous_mode", &mode),
      json_fields::read(obj, "synchronous_mode_strict", &c.synchronous_mode_strict),
      json_fields::read(obj, "synchronous_node_count", &c.synchronous_node_count, 1, 64),
      json_fields::read(obj, "maximum_lag_on_syncnode", &c.maximum_lag_on_syncnode, 0, INT64_MAX),
      json_fields::read(obj, "history_limit", &c.history_limit, 1, 100000),
      json_fields::read(obj, "fast_takeover", &c.fast_takeover),
      json_fields::read(obj, "use_slots", &c.use_slots),
      json_fields::read(obj, "member_slots_ttl", &c.member_slots_ttl_s, 0, 31536000),
      read_slots(obj, &c),
      read_parameters(obj, &c),
  };
  for (const Status& s : checks) {
    if (!s.ok()) return make_error(ErrorKind::Invalid, "config: " + s.error().message);
  }
  auto m = sync_mode_from_name(mode);
  if (!m.ok()) return m.error();
  c.synchronous_mode = *m;
  return c;
}

std::string encode_cluster_config(const ClusterConfig& c) {
  json j = {{"version", kSchemaVersion},
            {"ttl", c.ttl_s},
            {"loop_wait_ms", c.loop_wait_ms},
            {"fence_after_ms", c.fence_after_ms},
            {"fence_margin_ms", c.fence_margin_ms},
            {"max_clock_drift", c.max_clock_drift},
            {"election_wait_ms", c.election_wait_ms},
            {"switchover_timeout_ms", c.switchover_timeout_ms},
            {"maximum_lag_on_failover", c.maximum_lag_on_failover},
            {"primary_start_timeout", c.primary_start_timeout_s},
            {"synchronous_mode", sync_mode_name(c.synchronous_mode)},
            {"synchronous_mode_strict", c.synchronous_mode_strict},
            {"synchronous_node_count", c.synchronous_node_count},
            {"maximum_lag_on_syncnode", c.maximum_lag_on_syncnode},
            {"history_limit", c.history_limit},
            {"fast_takeover", c.fast_takeover},
            {"use_slots", c.use_slots},
            {"member_slots_ttl", c.member_slots_ttl_s}};
  json slots = json::object();
  for (const auto& [name, type] : c.permanent_slots) slots[name] = {{"type", type}};
  j["slots"] = slots;
  json params = json::object();
  for (const auto& [k, v] : c.postgresql_parameters) params[k] = v;
  j["postgresql"] = {{"parameters", params}};
  // Only when set: a node not yet upgraded refuses a config with a key it does not know.
  if (!c.pg_hba.empty()) j["postgresql"]["pg_hba"] = c.pg_hba;
  return j.dump();
}

// The part of a lease of `ttl_s` we may use: etcd may run fast and we may run slow, each by up
// to the drift bound, and the margin absorbs scheduling delay between the check and the commit.
static double usable_lease_ms(const ClusterConfig& c, int64_t ttl_s) {
  if (canaries().no_fence_margin) return ttl_s * 1000.0;
  double rho = c.max_clock_drift;
  return ttl_s * 1000.0 * (1.0 - rho) / (1.0 + rho) - c.fence_margin_ms;
}

TimeMs leader_keepalive_interval_ms(const ClusterConfig& config) {
  return std::max<TimeMs>(1, std::min<TimeMs>(config.loop_wait_ms, config.fence_after_ms / 2));
}

TimeMs write_deadline_after_keepalive(const ClusterConfig& c, TimeMs sent_ms, int64_t granted_ttl_s) {
  // canary: trust the config instead of what etcd granted
  if (canaries().config_ttl || canaries().no_fence_margin) granted_ttl_s = c.ttl_s;
  if (granted_ttl_s <= 0) return 0;
  double lease_ms = usable_lease_ms(c, std::min<int64_t>(granted_ttl_s, c.ttl_s));
  double window = canaries().no_fence_margin ? lease_ms : std::min<double>(c.fence_after_ms, lease_ms);
  if (window <= 0) return 0;
  return sent_ms + static_cast<TimeMs>(std::floor(window));
}

TimeMs takeover_silence_ms(const ClusterConfig& c) {
  if (canaries().no_silence_margin) return c.fence_after_ms;
  double rho = c.max_clock_drift;
  // The primary's window lasts at most fence_after/(1-rho) real ms; a silence measured on a clock
  // that may run fast by rho must be stretched by (1+rho) to be that long in real time.
  return static_cast<TimeMs>(std::ceil((1.0 + rho) * (c.fence_after_ms / (1.0 - rho) + c.fence_margin_ms)));
}

TimeMs window_for_silence_ms(const ClusterConfig& c, TimeMs silence_ms) {
  if (canaries().no_silence_margin) return silence_ms;
  double rho = c.max_clock_drift;
  return static_cast<TimeMs>(std::floor((silence_ms / (1.0 + rho) - c.fence_margin_ms) * (1.0 - rho)));
}

static Error rule(const std::string& name, const std::string& text) {
  return make_error(ErrorKind::Invalid, "config rule \"" + name + "\" violated: " + text);
}

// Parameters pg_ha itself manages per node or that would break the node's wiring if set
// cluster-wide.
static const std::set<std::string>& managed_parameters() {
  static const std::set<std::string> names = {
      "primary_conninfo", "synchronous_standby_names", "primary_slot_name", "listen_addresses", "port",
      "unix_socket_directories", "data_directory", "config_file", "hba_file", "ident_file",
      "shared_preload_libraries", "include", "include_if_exists", "include_dir"};
  return names;
}

Status validate_cluster_config(const ClusterConfig& c) {
  for (const auto& [name, value] : c.postgresql_parameters) {
    if (managed_parameters().count(name) || name.rfind("pg_ha.", 0) == 0) {
      return rule("managed parameter", "postgresql parameter \"" + name + "\" is set per node by pg_ha, not in the cluster config");
    }
    bool ok = !name.empty();
    for (char ch : name) ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.');
    if (!ok) return rule("parameter name", "\"" + name + "\" is not a valid parameter name");
  }
  if (c.ttl_s < 2 || c.ttl_s > 3600) return rule("ttl range", "ttl must be between 2 and 3600 seconds");
  if (c.loop_wait_ms < 100) return rule("loop_wait range", "loop_wait_ms must be at least 100");
  if (c.max_clock_drift < 0 || c.max_clock_drift >= 0.1) return rule("drift range", "max_clock_drift must be in [0, 0.1)");
  if (c.synchronous_node_count < 1) return rule("sync count", "synchronous_node_count must be at least 1");
  if (c.fence_after_ms <= c.loop_wait_ms) {
    return rule("fence after a missed keep-alive",
                "fence_after_ms (" + std::to_string(c.fence_after_ms) + ") must exceed loop_wait_ms (" +
                    std::to_string(c.loop_wait_ms) + "), or every keep-alive interval would fence the primary");
  }
  double usable = usable_lease_ms(c, c.ttl_s);
  if (usable <= c.loop_wait_ms) {
    return rule("fence before lease expiry",
                "ttl " + std::to_string(c.ttl_s) + " s less drift and fence_margin_ms " +
                    std::to_string(c.fence_margin_ms) + " leaves " + std::to_string(static_cast<int64_t>(usable)) +
                    " ms, which must exceed loop_wait_ms (" + std::to_string(c.loop_wait_ms) +
                    ") so a keep-alive can renew the lease before the primary must fence");
  }
  if (c.loop_wait_ms * 2 > c.ttl_s * 1000) {
    return rule("keep-alives per lease", "loop_wait_ms must be at most half the ttl, so one lost keep-alive does not lose the lease");
  }
  if (c.election_wait_ms >= c.ttl_s * 1000) {
    return rule("election wait", "election_wait_ms must be shorter than the ttl");
  }
  if (c.switchover_timeout_ms < c.loop_wait_ms) {
    return rule("switchover timeout", "switchover_timeout_ms must be at least loop_wait_ms");
  }
  return ok_status();
}

Status validate_node_name(const std::string& name) {
  if (name.empty()) return make_error(ErrorKind::Invalid, "node name must not be empty");
  // A standby's application_name is its name and an identity prefix, within PostgreSQL's 63 bytes.
  if (name.size() > kMaxNodeName)
    return make_error(ErrorKind::Invalid, "node name \"" + name + "\" is longer than " + std::to_string(kMaxNodeName) + " characters");
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
    if (!ok) {
      return make_error(ErrorKind::Invalid, "node name \"" + name + "\" may contain only letters, digits, '_', '-' and '.'");
    }
  }
  return ok_status();
}

}  // namespace pg_ha::core
