#include <string>

#include "pg/parameter_rules.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "miscadmin.h"        // GetUserId
#include "utils/acl.h"        // pg_parameter_aclcheck, ACL_ALTER_SYSTEM
#include "utils/guc.h"        // set_config_option, GUC flags
#include "utils/guc_tables.h" // get_guc_variables, struct config_generic
}

namespace pg_ha::pg {
namespace {

// Plain data out of the GUC table, so the guarded call needs no C++ object.
struct RawFacts {
  bool known;
  int context;
  int flags;
};

void lookup_c(const char* name, RawFacts* out) {
  *out = RawFacts{false, 0, 0};
  struct config_generic** vars = get_guc_variables();
  int n = GetNumConfigOptions();
  for (int i = 0; i < n; ++i) {
    if (pg_strcasecmp(vars[i]->name, name) != 0) continue;
    if (vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) return;   // a SET of an unloaded module's name
    *out = RawFacts{true, static_cast<int>(vars[i]->context), vars[i]->flags};
    return;
  }
}

// PGC_POSTMASTER as the context: every parameter's context rule passes (privileges are judged
// separately), and the value goes through the same parsing, range and check hooks as a value
// read from postgresql.conf (PGC_S_FILE), as ALTER SYSTEM checks it.
void check_value_c(const char* name, const char* value) {
  (void)set_config_option(name, value, PGC_POSTMASTER, PGC_S_FILE, GUC_ACTION_SET, false, ERROR, false);
}

bool may_alter_system_c(const char* name) {
  return pg_parameter_aclcheck(name, GetUserId(), ACL_ALTER_SYSTEM) == ACLCHECK_OK;
}

}  // namespace

ParameterFacts parameter_facts(const std::string& name) {
  RawFacts raw{false, 0, 0};
  guard_call(lookup_c, name.c_str(), &raw);
  ParameterFacts f;
  if (!raw.known) return f;
  f.known = true;
  GucContext context = static_cast<GucContext>(raw.context);
  f.context = GucContext_Names[context];
  f.settable_in_file = context != PGC_INTERNAL && !(raw.flags & (GUC_DISALLOW_IN_FILE | GUC_DISALLOW_IN_AUTO_FILE));
  // PostgreSQL lets a non-superuser change only what it may SET in its own session (user
  // context) or at connection start (backend context). Everything else (sighup, postmaster,
  // superuser contexts) only a superuser may change server-wide, through postgresql.conf or
  // ALTER SYSTEM, and so does archive_command (sighup) or ssl_passphrase_command.
  f.flagged_superuser_only = raw.flags & GUC_SUPERUSER_ONLY;
  f.superuser_only = !(context == PGC_USERSET || context == PGC_BACKEND) || f.flagged_superuser_only;
  return f;
}

void check_parameter_value(const std::string& name, const std::string& value) {
  guard_call(check_value_c, name.c_str(), value.c_str());
}

bool current_user_may_alter_system(const std::string& name) { return guard_call(may_alter_system_c, name.c_str()); }

}  // namespace pg_ha::pg
