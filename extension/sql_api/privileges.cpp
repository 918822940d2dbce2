#include <string>

#include "sql_api/privileges.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

namespace pg_ha::sql_api {

void require_cluster_admin(const char* function_name) {
  if (pg::current_user_is_superuser() || pg::current_user_has_privs_of(kAdminRole)) return;
  throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                     std::string("pg_ha: permission denied for ") + function_name,
                     "", std::string("Only superusers and members of ") + kAdminRole + " may control the cluster.");
}

void require_parameter_privilege(const std::string& name, const pg::ParameterFacts& facts) {
  bool needs_superuser = facts.known ? facts.superuser_only : name.find('.') != std::string::npos;
  if (!needs_superuser || pg::current_user_is_superuser() || pg::current_user_may_alter_system(name)) return;
  std::string why = facts.known ? "PostgreSQL lets only superusers change it server-wide (context " + facts.context +
                                      (facts.flagged_superuser_only ? ", superuser-only" : "") + ")"
                                : "it is a custom parameter that no loaded module defines, so its rules are unknown";
  throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "pg_ha: permission denied to set parameter \"" + name + "\"",
                     "The cluster config writes it into every node's configuration, and " + why + ".",
                     "Ask a superuser to set it, or to GRANT ALTER SYSTEM ON PARAMETER " + name + ".");
}

void require_hba_privilege() {
  if (pg::current_user_is_superuser()) return;
  throw pg::SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE, "pg_ha: permission denied to change postgresql.pg_hba",
                     "The cluster's pg_hba rules decide who may connect as which role on every node (a trust rule "
                     "makes anyone a superuser), so only superusers may change them.",
                     "Ask a superuser to change them.");
}

}  // namespace pg_ha::sql_api
