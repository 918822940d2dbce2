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

}  // namespace pg_ha::sql_api
