#include "config.hpp"

#include <fstream>
#include <functional>
#include <sstream>

#include "agent/auto_conf.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "common/quoting.hpp"
#include "hba.hpp"
#include "etcd/options.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

Error line_error(const std::string& origin, int line, const std::string& what) {
  return make_error(ErrorKind::Invalid, origin + ":" + std::to_string(line) + ": " + what);
}

// One line: key [=] value [# comment].
Result<std::pair<std::string, std::string>> parse_line(const std::string& raw, const std::string& origin, int n) {
  std::string line = trim(raw);
  size_t key_end = 0;
  while (key_end < line.size() && (isalnum(static_cast<unsigned char>(line[key_end])) || line[key_end] == '_' ||
                                   line[key_end] == '.' || line[key_end] == '-'))
    ++key_end;
  if (key_end == 0) return line_error(origin, n, "expected `key = value`");
  std::string key = line.substr(0, key_end);
  size_t pos = line.find_first_not_of(" \t", key_end);
  if (pos != std::string::npos && line[pos] == '=') pos = line.find_first_not_of(" \t", pos + 1);
  std::string value;
  if (pos == std::string::npos) return line_error(origin, n, "key `" + key + "` has no value");
  size_t rest;
  if (line[pos] == '\'') {
    rest = quoting::read_conf_quoted(line, pos, &value);   // as postgresql.conf reads it
    if (rest == std::string::npos) return line_error(origin, n, "unterminated quoted value for `" + key + "`");
  } else {
    rest = line.find('#', pos);
    value = trim(line.substr(pos, rest == std::string::npos ? std::string::npos : rest - pos));
    rest = line.size();
  }
  std::string tail = trim(line.substr(rest));
  if (!tail.empty() && tail[0] != '#') return line_error(origin, n, "unexpected text after the value of `" + key + "`");
  return std::make_pair(key, value);
}

Status parse_int(const std::string& key, const std::string& value, int lo, int hi, int* out) {
  try {
    size_t used = 0;
    long v = std::stol(value, &used);
    if (used != value.size() || v < lo || v > hi) throw std::out_of_range(key);
    *out = static_cast<int>(v);
    return ok_status();
  } catch (const std::exception&) {
    return make_error(ErrorKind::Invalid, "`" + key + "` must be an integer between " + std::to_string(lo) +
                                              " and " + std::to_string(hi) + ", not `" + value + "`");
  }
}

Status parse_bool(const std::string& key, const std::string& value, bool* out) {
  std::string v;
  for (char c : value) v.push_back(static_cast<char>(tolower(static_cast<unsigned char>(c))));
  if (v == "on" || v == "true" || v == "yes" || v == "1") { *out = true; return ok_status(); }
  if (v == "off" || v == "false" || v == "no" || v == "0") { *out = false; return ok_status(); }
  return make_error(ErrorKind::Invalid, "`" + key + "` must be a boolean (on/off), not `" + value + "`");
}

using Setter = std::function<Status(SidecarConfig*, const std::string&, const std::string&)>;

Setter str(std::string SidecarConfig::*field) {
  return [field](SidecarConfig* c, const std::string&, const std::string& v) {
    c->*field = v;
    return ok_status();
  };
}

Setter integer(int SidecarConfig::*field, int lo, int hi) {
  return [=](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_int(k, v, lo, hi, &(c->*field)); };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"name", str(&SidecarConfig::name)},
      {"cluster", str(&SidecarConfig::cluster)},
      {"data_dir", str(&SidecarConfig::data_dir)},
      {"bin_dir", str(&SidecarConfig::bin_dir)},
      {"state_dir", str(&SidecarConfig::state_dir)},
      {"listen_host", str(&SidecarConfig::listen_host)},
      {"port", integer(&SidecarConfig::port, 1, 65535)},
      {"connect_host", str(&SidecarConfig::connect_host)},
      {"socket_dir", str(&SidecarConfig::socket_dir)},
      {"http_listen", str(&SidecarConfig::http_listen)},
      {"etcd_endpoints", str(&SidecarConfig::etcd_endpoints)},
      {"etcd_user", str(&SidecarConfig::etcd_user)},
      {"etcd_password_file", str(&SidecarConfig::etcd_password_file)},
      {"etcd_ca_file", str(&SidecarConfig::etcd_ca_file)},
      {"etcd_cert_file", str(&SidecarConfig::etcd_cert_file)},
      {"etcd_key_file", str(&SidecarConfig::etcd_key_file)},
      {"key_prefix", str(&SidecarConfig::key_prefix)},
      {"os_user", str(&SidecarConfig::os_user)},
      {"superuser", str(&SidecarConfig::superuser)},
      {"replication_user", str(&SidecarConfig::replication_user)},
      {"replication_passfile", str(&SidecarConfig::replication_passfile)},
      {"replication_networks", str(&SidecarConfig::replication_networks)},
      {"client_networks", str(&SidecarConfig::client_networks)},
      {"shared_preload_libraries", str(&SidecarConfig::shared_preload_libraries)},
      {"wal_keep_size", str(&SidecarConfig::wal_keep_size)},
      {"max_slot_wal_keep_size", str(&SidecarConfig::max_slot_wal_keep_size)},
      {"max_wal_senders", integer(&SidecarConfig::max_wal_senders, 1, 1000)},
      {"max_replication_slots", integer(&SidecarConfig::max_replication_slots, 0, 1000)},
      {"max_connections", integer(&SidecarConfig::max_connections, 5, 100000)},
      {"rewind_user", str(&SidecarConfig::rewind_user)},
      {"keep_old_data_dirs", integer(&SidecarConfig::keep_old_data_dirs, 0, 1000)},
      {"log_file", str(&SidecarConfig::log_file)},
      {"postgres_log_file", str(&SidecarConfig::postgres_log_file)},
      {"nofailover", [](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_bool(k, v, &c->tags.nofailover); }},
      {"tool_sync", [](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_bool(k, v, &c->tool_sync); }},
      {"etcd_allow_insecure_auth", [](SidecarConfig* c, const std::string& k, const std::string& v) {
         return parse_bool(k, v, &c->etcd_allow_insecure_auth);
       }},
      {"replication_conninfo_options", str(&SidecarConfig::replication_conninfo_options)},
      {"nosync", [](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_bool(k, v, &c->tags.nosync); }},
      {"noloadbalance", [](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_bool(k, v, &c->tags.noloadbalance); }},
      {"priority", [](SidecarConfig* c, const std::string& k, const std::string& v) { return parse_int(k, v, 0, 1000000, &c->tags.priority); }},
  };
  return table;
}


std::string normalize_key(std::string key) {
  for (char& c : key)
    if (c == '-') c = '_';
  return key;
}

bool is_absolute(const std::string& path) { return !path.empty() && path[0] == '/'; }

Status read_file(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::Invalid, "cannot read configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return ok_status();
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool SidecarConfig::preloads_pg_ha() const {
  std::stringstream ss(shared_preload_libraries);
  std::string item;
  while (std::getline(ss, item, ','))
    if (trim(item) == "pg_ha") return true;
  return false;
}

Result<std::map<std::string, std::string>> parse_config_text(const std::string& text, const std::string& origin) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string raw;
  int n = 0;
  while (std::getline(ss, raw)) {
    ++n;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto kv = parse_line(line, origin, n);
    if (!kv) return kv.error();
    std::string key = normalize_key(kv->first);
    if (!setters().count(key)) return line_error(origin, n, "unknown key `" + kv->first + "`");
    out[key] = kv->second;
  }
  return out;
}

Status apply_config_key(SidecarConfig* config, const std::string& key, const std::string& value) {
  auto it = setters().find(normalize_key(key));
  if (it == setters().end()) return make_error(ErrorKind::Invalid, "unknown key `" + key + "`");
  return it->second(config, it->first, value);
}

bool split_host_port(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  if (!parse_int("port", text.substr(colon + 1), 1, 65535, &p).ok()) return false;
  *host = h;
  *port = p;
  return true;
}

Status validate_config(const SidecarConfig& c) {
  auto missing = [](const char* key) { return make_error(ErrorKind::Invalid, std::string("`") + key + "` is required"); };
  if (c.name.empty()) return missing("name");
  if (c.cluster.empty()) return missing("cluster");
  if (c.data_dir.empty()) return missing("data_dir");
  if (c.state_dir.empty()) return missing("state_dir");
  if (c.replication_passfile.empty()) return missing("replication_passfile");
  Status name_ok = core::validate_node_name(c.name);
  if (!name_ok) return name_ok;
  for (const auto& [key, path] : {std::pair<const char*, std::string>{"data_dir", c.data_dir}, {"state_dir", c.state_dir},
                                 {"bin_dir", c.bin_dir}, {"replication_passfile", c.replication_passfile}}) {
    if (!is_absolute(path)) return make_error(ErrorKind::Invalid, std::string("`") + key + "` must be an absolute path");
  }
  if (c.data_dir == c.state_dir)
    return make_error(ErrorKind::Invalid, "`state_dir` must differ from `data_dir`: pg_rewind and pg_basebackup overwrite the data directory");
  // Peers put this host into primary_conninfo, pg_basebackup and pg_rewind: the same rule as a
  // member record read from etcd.
  if (Status h = core::validate_host(c.effective_connect_host()); !h)
    return make_error(ErrorKind::Invalid, "`connect_host` (or `listen_host`) `" + c.effective_connect_host() + "`: " + h.error().message);
  std::string host;
  int port = 0;
  if (!split_host_port(c.http_listen, &host, &port))
    return make_error(ErrorKind::Invalid, "`http_listen` must be host:port, not `" + c.http_listen + "`");
  if (c.key_prefix.empty() || c.key_prefix[0] != '/') return make_error(ErrorKind::Invalid, "`key_prefix` must start with /");
  std::string clear_text = etcd::insecure_auth_problem(split_list(c.etcd_endpoints), c.etcd_user, c.etcd_allow_insecure_auth);
  if (!clear_text.empty()) return make_error(ErrorKind::Invalid, "`etcd_user`: " + clear_text);
  if (auto nets = parse_client_networks(c.client_networks); !nets) return nets.error();
  auto options = agent::parse_conninfo_options(c.replication_conninfo_options);
  if (!options) return make_error(ErrorKind::Invalid, "`replication_conninfo_options`: " + options.error().message);
  if (c.effective_socket_dir().size() > 90)
    return make_error(ErrorKind::Invalid, "`socket_dir` is too long for a unix socket path (at most 90 characters)");
  return ok_status();
}

Result<SidecarConfig> load_config(const std::vector<std::string>& args, bool* help) {
  *help = false;
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") { *help = true; return SidecarConfig{}; }
    if (a.rfind("--", 0) != 0) return make_error(ErrorKind::Invalid, "unexpected argument `" + a + "`");
    std::string key = a.substr(2), value;
    size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return make_error(ErrorKind::Invalid, "flag `" + a + "` needs a value");
    }
    if (normalize_key(key) == "config") config_file = value;
    else flags.emplace_back(key, value);
  }
  SidecarConfig config;
  if (!config_file.empty()) {
    std::string text;
    Status read = read_file(config_file, &text);
    if (!read) return read.error();
    auto pairs = parse_config_text(text, config_file);
    if (!pairs) return pairs.error();
    for (const auto& [k, v] : *pairs) {
      Status s = apply_config_key(&config, k, v);
      if (!s) return make_error(ErrorKind::Invalid, config_file + ": " + s.error().message);
    }
  }
  for (const auto& [k, v] : flags) {
    Status s = apply_config_key(&config, k, v);
    if (!s) return make_error(ErrorKind::Invalid, "flag --" + k + ": " + s.error().message);
  }
  Status valid = validate_config(config);
  if (!valid) return valid.error();
  return config;
}

std::string config_usage() {
  std::string keys;
  for (const auto& [k, _] : setters()) keys += " " + k;
  return "usage: pg_ha_sidecar --config FILE [--key value ...]\n"
         "Every configuration key can also be given as a flag (--data-dir or --data_dir).\n"
         "keys:" + keys + "\n";
}

}  // namespace pg_ha::sidecar
