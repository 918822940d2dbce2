#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/auto_conf.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "etcd/options.hpp"
#include "pg/gucs.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "postmaster/postmaster.h"  // PostPortNumber (the `port` setting)
#include "utils/guc.h"     // DefineCustom*Variable, GUC flags
}

namespace pg_ha::pg {
namespace {

char* guc_cluster_name = nullptr;
char* guc_node_name = nullptr;
char* guc_etcd_endpoints = nullptr;
char* guc_key_prefix = nullptr;
char* guc_connect_host = nullptr;
int guc_connect_port = 0;
char* guc_api_url = nullptr;
char* guc_etcd_user = nullptr;
char* guc_etcd_password_file = nullptr;
char* guc_etcd_ca_file = nullptr;
char* guc_etcd_cert_file = nullptr;
char* guc_etcd_key_file = nullptr;
char* guc_state_dir = nullptr;
char* guc_admin_role = nullptr;
char* guc_replication_user = nullptr;
char* guc_replication_passfile = nullptr;
char* guc_replication_conninfo_options = nullptr;
bool guc_etcd_allow_insecure_auth = false;
bool guc_nofailover = false;
int guc_priority = 100;
bool guc_nosync = false;
bool guc_noloadbalance = false;
int guc_etcd_timeout_ms = 1000;
bool guc_enable_test_functions = false;

std::string str(const char* value) { return value ? value : ""; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// GUC check hooks are PostgreSQL callbacks: they must not throw, so each wraps its C++ in a
// try block and reports failure through GUC_check_errdetail.
bool check_node_name(char** newval, void**, GucSource) {
  try {
    if (!*newval || !**newval) return true;   // unset: the host name is used
    Status st = core::validate_node_name(*newval);
    if (st.ok()) return true;
    GUC_check_errdetail("%s", st.error().message.c_str());
  } catch (...) {
    GUC_check_errdetail("could not validate the node name");
  }
  return false;
}

bool check_endpoints(char** newval, void**, GucSource) {
  try {
    for (const std::string& e : split_endpoints(str(*newval))) {
      if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
        GUC_check_errdetail("etcd endpoint \"%s\" must start with http:// or https://", e.c_str());
        return false;
      }
    }
    return true;
  } catch (...) {
    GUC_check_errdetail("could not parse the endpoint list");
  }
  return false;
}

bool check_conninfo_options(char** newval, void**, GucSource) {
  try {
    auto parsed = agent::parse_conninfo_options(str(*newval));
    if (parsed.ok()) return true;
    GUC_check_errdetail("%s", parsed.error().message.c_str());
  } catch (...) {
    GUC_check_errdetail("could not parse the connection options");
  }
  return false;
}

bool check_key_prefix(char** newval, void**, GucSource) {
  if (*newval && (*newval)[0] == '/') return true;
  GUC_check_errdetail("the key prefix must start with \"/\"");
  return false;
}

void define_string(const char* name, const char* desc, char** var, const char* def, GucContext ctx,
                   int flags = 0, GucStringCheckHook check = nullptr) {
  DefineCustomStringVariable(name, desc, nullptr, var, def, ctx, flags, check, nullptr, nullptr);
}

void define_bool(const char* name, const char* desc, bool* var, bool def, GucContext ctx, int flags = 0) {
  DefineCustomBoolVariable(name, desc, nullptr, var, def, ctx, flags, nullptr, nullptr, nullptr);
}

void define_identity() {
  define_string("pg_ha.cluster_name", "Name of the pg_ha cluster this node belongs to.", &guc_cluster_name, "",
                PGC_POSTMASTER);
  define_string("pg_ha.node_name", "This node's member name (default: the host name).", &guc_node_name, "",
                PGC_POSTMASTER, 0, check_node_name);
  define_string("pg_ha.etcd_endpoints", "Comma-separated etcd URLs; empty runs standalone.", &guc_etcd_endpoints,
                "", PGC_POSTMASTER, 0, check_endpoints);
  define_string("pg_ha.key_prefix", "Prefix of pg_ha's keys in etcd.", &guc_key_prefix, "/pg_ha", PGC_POSTMASTER,
                0, check_key_prefix);
  define_string("pg_ha.replication_user", "Role this node streams WAL as when it follows a primary.",
                &guc_replication_user, "replicator", PGC_SIGHUP, GUC_SUPERUSER_ONLY);
  define_string("pg_ha.replication_passfile", "libpq passfile with the replication password (never the password itself).",
                &guc_replication_passfile, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY);
  define_string("pg_ha.replication_conninfo_options",
                "libpq TLS options for following and cloning a primary (\"sslmode=verify-full sslrootcert=...\").",
                &guc_replication_conninfo_options, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_conninfo_options);
  define_string("pg_ha.state_dir", "Directory outside the data directory shared with the sidecar.",
                &guc_state_dir, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY);
}

void define_address() {
  define_string("pg_ha.connect_host", "Host name or address where peers and clients reach this server.",
                &guc_connect_host, "", PGC_SIGHUP);
  DefineCustomIntVariable("pg_ha.connect_port", "Port where peers and clients reach this server (0: port).",
                          nullptr, &guc_connect_port, 0, 0, 65535, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  define_string("pg_ha.api_url", "URL of this node's sidecar health API, for display.", &guc_api_url, "",
                PGC_SIGHUP);
}

void define_etcd_access() {
  const int secret = GUC_SUPERUSER_ONLY;
  define_string("pg_ha.etcd_user", "etcd user name (empty: no authentication).", &guc_etcd_user, "", PGC_SIGHUP,
                secret);
  define_string("pg_ha.etcd_password_file", "File holding the etcd password.", &guc_etcd_password_file, "",
                PGC_SIGHUP, secret);
  define_string("pg_ha.etcd_ca_file", "CA bundle for etcd TLS.", &guc_etcd_ca_file, "", PGC_SIGHUP, secret);
  define_string("pg_ha.etcd_cert_file", "Client certificate for etcd TLS.", &guc_etcd_cert_file, "", PGC_SIGHUP,
                secret);
  define_string("pg_ha.etcd_key_file", "Client key for etcd TLS.", &guc_etcd_key_file, "", PGC_SIGHUP, secret);
  define_bool("pg_ha.etcd_allow_insecure_auth", "Allow the etcd user and password over plain http:// endpoints.",
              &guc_etcd_allow_insecure_auth, false, PGC_SIGHUP, secret);
  DefineCustomIntVariable("pg_ha.etcd_timeout_ms", "Deadline of one etcd request.", nullptr, &guc_etcd_timeout_ms,
                          1000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

void define_tags_and_admin() {
  define_bool("pg_ha.nofailover", "Never promote this node automatically or by failover().", &guc_nofailover,
              false, PGC_SIGHUP);
  DefineCustomIntVariable("pg_ha.priority", "Failover priority (0: never promoted; higher wins ties).", nullptr,
                          &guc_priority, 100, 0, 1000000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  define_bool("pg_ha.nosync", "Never choose this node as a synchronous standby.", &guc_nosync, false, PGC_SIGHUP);
  define_bool("pg_ha.noloadbalance", "Health checks report this node as not serving reads.", &guc_noloadbalance,
              false, PGC_SIGHUP);
  define_string("pg_ha.admin_role", "Role still admitted while this node is fenced.", &guc_admin_role,
                "pgha_admin", PGC_SIGHUP);
  define_bool("pg_ha.enable_test_functions", "Allow pg_ha's test-only SQL functions (regression tests).",
              &guc_enable_test_functions, false, PGC_SUSET, GUC_NOT_IN_SAMPLE);
}

}  // namespace

void define_gucs() {
  define_identity();
  define_address();
  define_etcd_access();
  define_tags_and_admin();
  MarkGUCPrefixReserved("pg_ha");
}

Settings current_settings() {
  Settings s;
  s.cluster_name = str(guc_cluster_name);
  s.node_name = str(guc_node_name);
  if (s.node_name.empty()) {
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) == 0) s.node_name = host;
  }
  s.etcd_endpoints = split_endpoints(str(guc_etcd_endpoints));
  s.key_prefix = str(guc_key_prefix);
  s.connect_host = str(guc_connect_host);
  s.connect_port = guc_connect_port > 0 ? guc_connect_port : PostPortNumber;
  s.api_url = str(guc_api_url);
  s.etcd_user = str(guc_etcd_user);
  s.etcd_password_file = str(guc_etcd_password_file);
  s.etcd_ca_file = str(guc_etcd_ca_file);
  s.etcd_cert_file = str(guc_etcd_cert_file);
  s.etcd_key_file = str(guc_etcd_key_file);
  s.state_dir = str(guc_state_dir);
  s.admin_role = str(guc_admin_role);
  s.replication_user = str(guc_replication_user);
  s.replication_passfile = str(guc_replication_passfile);
  s.replication_conninfo_options = str(guc_replication_conninfo_options);
  s.etcd_allow_insecure_auth = guc_etcd_allow_insecure_auth;
  s.tags.nofailover = guc_nofailover;
  s.tags.priority = guc_priority;
  s.tags.nosync = guc_nosync;
  s.tags.noloadbalance = guc_noloadbalance;
  s.etcd_timeout_ms = guc_etcd_timeout_ms;
  return s;
}

core::NodeConfig node_config(const Settings& settings) {
  core::NodeConfig node;
  node.name = settings.node_name;
  node.host = settings.connect_host;
  node.port = settings.connect_port;
  node.api_url = settings.api_url;
  node.tags = settings.tags;
  return node;
}

Status validate_cluster_settings(const Settings& s) {
  if (s.cluster_name.empty()) return make_error(ErrorKind::Invalid, "pg_ha.cluster_name is not set");
  Status name = core::validate_node_name(s.node_name);
  if (!name.ok()) return make_error(ErrorKind::Invalid, "pg_ha.node_name: " + name.error().message);
  if (s.connect_host.empty()) return make_error(ErrorKind::Invalid, "pg_ha.connect_host is not set");
  if (Status h = core::validate_host(s.connect_host); !h.ok()) return make_error(ErrorKind::Invalid, "pg_ha.connect_host: " + h.error().message);
  if (s.state_dir.empty()) return make_error(ErrorKind::Invalid, "pg_ha.state_dir is not set");
  std::string clear_text = etcd::insecure_auth_problem(s.etcd_endpoints, s.etcd_user, s.etcd_allow_insecure_auth);
  if (!clear_text.empty()) return make_error(ErrorKind::Invalid, "pg_ha.etcd_user: " + clear_text);
  return ok_status();
}

namespace {

Result<std::string> read_etcd_password(const Settings& settings) {
  if (settings.etcd_password_file.empty()) return std::string();
  std::ifstream in(settings.etcd_password_file);
  if (!in) {
    return make_error(ErrorKind::Auth, "could not read pg_ha.etcd_password_file \"" + settings.etcd_password_file +
                                           "\": " + strerror(errno));
  }
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

}  // namespace

Result<etcd::Options> etcd_options(const Settings& s) {
  etcd::Options o;
  o.endpoints = s.etcd_endpoints;
  o.request_timeout_ms = s.etcd_timeout_ms;
  o.connect_timeout_ms = s.etcd_timeout_ms;
  o.user = s.etcd_user;
  o.allow_insecure_auth = s.etcd_allow_insecure_auth;
  if (!s.etcd_user.empty()) {
    auto password = read_etcd_password(s);
    if (!password.ok()) return password.error();
    o.password = std::move(*password);
  }
  o.tls.ca_file = s.etcd_ca_file;
  o.tls.cert_file = s.etcd_cert_file;
  o.tls.key_file = s.etcd_key_file;
  return o;
}

bool standalone_configured() {
  // Only separators and blanks count as empty, like split_endpoints().
  for (const char* p = guc_etcd_endpoints; p && *p; ++p)
    if (*p != ',' && *p != ' ' && *p != '\t') return false;
  return true;
}

const char* admin_role_name() { return guc_admin_role ? guc_admin_role : ""; }

bool test_functions_enabled() { return guc_enable_test_functions; }

}  // namespace pg_ha::pg
