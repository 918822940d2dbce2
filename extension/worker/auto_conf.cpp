#include "worker/auto_conf.hpp"

#include <sstream>

#include "worker/atomic_file.hpp"

namespace pg_ha::worker {
namespace {

constexpr const char* kUpstreamMarker = "# pg_ha upstream: ";

bool valid_parameter_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  return true;
}

// postgresql.conf string literal: quotes doubled, backslashes escaped.
std::string conf_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += "''";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n' || c == '\r') out += ' ';   // a value never spans lines
    else out += c;
  }
  return out + "'";
}

Result<std::string> conf_unquote(const std::string& text) {
  if (text.size() < 2 || text.front() != '\'' || text.back() != '\'')
    return make_error(ErrorKind::Invalid, "value is not a quoted string: " + text);
  std::string out;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    char c = text[i];
    if ((c == '\'' || c == '\\') && i + 2 < text.size()) ++i, c = text[i];
    out += c;
  }
  return out;
}

// libpq conninfo value: single-quoted, with \ and ' escaped by a backslash.
std::string conninfo_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

Status apply_line(const std::string& line, AutoConf* conf) {
  if (line.rfind(kUpstreamMarker, 0) == 0) {
    conf->upstream = line.substr(std::string(kUpstreamMarker).size());
    return ok_status();
  }
  if (line.empty() || line[0] == '#') return ok_status();
  size_t eq = line.find(" = ");
  if (eq == std::string::npos) return make_error(ErrorKind::Invalid, "malformed line: " + line);
  std::string name = line.substr(0, eq);
  Result<std::string> value = conf_unquote(line.substr(eq + 3));
  if (!value.ok()) return value.error();
  if (name == "primary_conninfo") conf->primary_conninfo = *value;
  else if (name == "synchronous_standby_names") conf->synchronous_standby_names = *value;
  else conf->parameters[name] = *value;
  return ok_status();
}

}  // namespace

std::string auto_conf_path(const std::string& state_dir) { return state_dir + "/" + kAutoConfFile; }

Result<std::string> render_auto_conf(const AutoConf& conf) {
  std::ostringstream out;
  out << "# Written by the pg_ha worker; do not edit: it is rewritten whole on every change.\n";
  if (!conf.upstream.empty()) out << kUpstreamMarker << conf.upstream << "\n";
  for (const auto& [name, value] : conf.parameters) {
    if (!valid_parameter_name(name)) return make_error(ErrorKind::Invalid, "invalid parameter name \"" + name + "\"");
    if (name == "primary_conninfo" || name == "synchronous_standby_names") continue;   // ours below
    out << name << " = " << conf_quote(value) << "\n";
  }
  if (!conf.primary_conninfo.empty()) out << "primary_conninfo = " << conf_quote(conf.primary_conninfo) << "\n";
  if (conf.synchronous_standby_names)
    out << "synchronous_standby_names = " << conf_quote(*conf.synchronous_standby_names) << "\n";
  return out.str();
}

Result<AutoConf> parse_auto_conf(const std::string& text) {
  AutoConf conf;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    Status st = apply_line(line, &conf);
    if (!st.ok()) return st.error();
  }
  return conf;
}

AutoConf read_auto_conf(const std::string& state_dir) {
  if (state_dir.empty()) return AutoConf{};
  Result<std::string> text = read_whole_file(auto_conf_path(state_dir));
  if (!text.ok()) return AutoConf{};
  Result<AutoConf> conf = parse_auto_conf(*text);
  return conf.ok() ? *conf : AutoConf{};
}

Status write_auto_conf(const std::string& state_dir, const AutoConf& conf) {
  if (state_dir.empty()) return make_error(ErrorKind::Invalid, "pg_ha.state_dir is not set");
  Result<std::string> text = render_auto_conf(conf);
  if (!text.ok()) return text.error();
  return write_file_atomically(auto_conf_path(state_dir), *text);
}

std::string make_primary_conninfo(const std::string& host, int port, const std::string& application_name) {
  return "host=" + conninfo_quote(host) + " port=" + std::to_string(port) +
         " application_name=" + conninfo_quote(application_name);
}

}  // namespace pg_ha::worker
