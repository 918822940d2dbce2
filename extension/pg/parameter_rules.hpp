// PostgreSQL's own rules for a parameter that pg_ha.set_config() puts into every node's
// configuration: does the name exist, does the value parse and lie in range, and who may set it.
// Everything here asks the server's GUC table (guc_tables.h) and set_config_option() in test
// mode (changeVal = false): nothing is changed in this backend.
#pragma once

#include <string>

namespace pg_ha::pg {

struct ParameterFacts {
  bool known = false;           // defined in this server (built in, or by a loaded module)
  bool settable_in_file = true; // false: internal, or disallowed in configuration files
  bool superuser_only = false;  // only a superuser may change it server-wide (see parameter_facts)
  bool flagged_superuser_only = false;  // GUC_SUPERUSER_ONLY: hidden from, and closed to, others
  std::string context;          // "user", "superuser", "sighup", "postmaster", ... ("" if unknown)
};

// Looks the name up (case-insensitively, like PostgreSQL). Placeholders for custom names that no
// loaded module defines count as unknown.
ParameterFacts parameter_facts(const std::string& name);

// Parses and checks `value` exactly as postgresql.conf would hand it over (check hooks included).
// Throws PgError with PostgreSQL's own message ("invalid value for parameter ...").
void check_parameter_value(const std::string& name, const std::string& value);

// True when the current user was granted ALTER SYSTEM on this parameter (PostgreSQL 15's
// GRANT ALTER SYSTEM ON PARAMETER), which lets a non-superuser change it in every node's files.
bool current_user_may_alter_system(const std::string& name);

}  // namespace pg_ha::pg
