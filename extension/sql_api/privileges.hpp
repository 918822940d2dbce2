// The C++ side of the SQL privileges: EXECUTE is granted to pgha_admin only, and the control
// functions check again here, so a stray GRANT cannot hand out cluster control.
#pragma once

namespace pg_ha::sql_api {

constexpr const char* kAdminRole = "pgha_admin";

// Raises "permission denied" unless the current user is a superuser or has pgha_admin's privileges.
void require_cluster_admin(const char* function_name);

}  // namespace pg_ha::sql_api
