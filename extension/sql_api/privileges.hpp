// The C++ side of the SQL privileges: EXECUTE is granted to pgha_admin only, and the control
// functions check again here, so a stray GRANT cannot hand out cluster control.
#pragma once

#include <string>

#include "pg/parameter_rules.hpp"

namespace pg_ha::sql_api {

constexpr const char* kAdminRole = "pgha_admin";

// Raises "permission denied" unless the current user is a superuser or has pgha_admin's privileges.
void require_cluster_admin(const char* function_name);

// A parameter in the cluster config lands in every node's configuration file, so setting or
// removing it needs what PostgreSQL asks for the same change with ALTER SYSTEM. pgha_admin may
// change what any role may SET for itself (context user or backend, not GUC_SUPERUSER_ONLY); a
// parameter only a superuser may change server-wide (sighup, postmaster and superuser contexts:
// archive_command, restore_command, ssl_passphrase_command, *_preload_libraries, max_connections)
// or a custom parameter no loaded module defines (its rules are unknown) needs a superuser, or a
// GRANT ALTER SYSTEM ON PARAMETER to the caller. Raises "permission denied" otherwise.
void require_parameter_privilege(const std::string& name, const pg::ParameterFacts& facts);

// postgresql.pg_hba decides who may log in as whom, on every node: a `trust` rule makes anyone a
// superuser. A pgha_admin member must not grant more than it holds, so changing the rules needs a
// superuser (no GRANT can delegate it). Raises "permission denied" otherwise.
void require_hba_privilege();

}  // namespace pg_ha::sql_api
