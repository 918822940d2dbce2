#include "wiring.hpp"

#include <algorithm>
#include <cctype>

#include "agent/auto_conf.hpp"
#include "common/atomic_file.hpp"
#include "log.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool is_auto_conf_parameter(const std::string& name) {
  for (const char* p : agent::kAutoConfParameters)
    if (name == p) return true;
  return false;
}

}  // namespace

std::vector<Setting> wiring_settings(const Node& node) {
  const SidecarConfig& c = node.config;
  std::vector<Setting> s = {
      {"listen_addresses", c.listen_host},
      {"port", std::to_string(c.port)},
      {"unix_socket_directories", node.socket_dir()},
      {"shared_preload_libraries", c.shared_preload_libraries},
      {"hba_file", node.hba_path()},
      {"ident_file", node.ident_path()},
      {"pg_ha.cluster_name", c.cluster},
      {"pg_ha.node_name", c.name},
      {"pg_ha.etcd_endpoints", c.etcd_endpoints},
      {"pg_ha.key_prefix", c.key_prefix},
      {"pg_ha.state_dir", c.state_dir},
      {"pg_ha.replication_user", c.replication_user},
      {"pg_ha.replication_passfile", c.replication_passfile},
      {"pg_ha.connect_host", c.effective_connect_host()},
      {"pg_ha.connect_port", std::to_string(c.port)},
      {"pg_ha.api_url", c.api_url()},
  };
  auto optional = [&s](const char* name, const std::string& value) {
    if (!value.empty()) s.push_back({name, value});
  };
  optional("pg_ha.etcd_user", c.etcd_user);
  optional("pg_ha.etcd_password_file", c.etcd_password_file);
  optional("pg_ha.etcd_ca_file", c.etcd_ca_file);
  optional("pg_ha.etcd_cert_file", c.etcd_cert_file);
  optional("pg_ha.etcd_key_file", c.etcd_key_file);
  if (c.etcd_allow_insecure_auth) s.push_back({"pg_ha.etcd_allow_insecure_auth", "on"});
  optional("pg_ha.replication_conninfo_options", c.replication_conninfo_options);
  return s;
}

std::vector<std::string> wiring_options(const Node& node) {
  std::vector<std::string> out;
  for (const auto& s : wiring_settings(node)) out.push_back(s.name + "=" + s.value);
  return out;
}

// PostgreSQL's configuration syntax: `name [=] value`, names of letters, digits, `_` and `.`
// (a custom class), case-insensitive.
std::string conf_line_name(const std::string& line) {
  size_t i = line.find_first_not_of(" \t\r");
  if (i == std::string::npos || !(std::isalpha(static_cast<unsigned char>(line[i])) || line[i] == '_')) return "";
  size_t end = i;
  while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_' || line[end] == '.')) ++end;
  size_t next = line.find_first_not_of(" \t\r", end);
  if (next == std::string::npos || line[next] == '#') return "";   // a name without a value
  std::string name = line.substr(i, end - i);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return name;
}

AutoConfCleanup clean_postgresql_auto_conf(const std::string& text, const std::vector<std::string>& wiring_names) {
  AutoConfCleanup out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string line = text.substr(pos, end - pos);
    pos = end;
    std::string name = conf_line_name(line);
    if (is_auto_conf_parameter(name)) {
      out.removed.push_back(name);
      continue;
    }
    if (std::find(wiring_names.begin(), wiring_names.end(), name) != wiring_names.end()) out.ineffective.push_back(name);
    out.text += line;
  }
  return out;
}

Status clean_postgresql_auto_conf_file(const Node& node) {
  std::string path = node.data_file("postgresql.auto.conf");
  if (!path_exists(path)) return ok_status();
  auto text = read_whole_file(path);
  if (!text) return text.error();
  std::vector<std::string> wiring_names;
  for (const auto& s : wiring_settings(node)) wiring_names.push_back(s.name);
  AutoConfCleanup c = clean_postgresql_auto_conf(*text, wiring_names);
  if (!c.ineffective.empty())
    log_warn(path + " sets " + join(c.ineffective) + ", which pg_ha_sidecar sets on the command line from its own " +
             "configuration: those lines have no effect (change the sidecar's configuration instead)");
  if (c.removed.empty()) return ok_status();
  Status s = files::write_atomically(path, c.text, files::WriteOptions{0600});
  if (!s) return s;
  log_warn("removed " + join(c.removed) + " from " + path + ": pg_ha's worker sets them on every node, and a " +
           "value there (ALTER SYSTEM, or pg_basebackup -R) would override it");
  return ok_status();
}

}  // namespace pg_ha::sidecar
