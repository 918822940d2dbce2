// Plain C in C++ clothing, like the other hooks (fence.cpp): no C++ object is alive when ereport()
// leaves.
#include "pg/alter_system_guard.hpp"

#include "agent/auto_conf.hpp"
#include "pg/shmem.hpp"
#include "pg/guarded.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "nodes/parsenodes.h"   // AlterSystemStmt, VariableSetStmt
#include "utils/guc.h"          // GetNumConfigOptions
#include "utils/guc_tables.h"   // get_guc_variables, config_generic::reset_source
}

namespace pg_ha::pg {
namespace {

bool is_worker_parameter(const char* name) {
  for (const char* p : agent::kAutoConfParameters)
    if (pg_strcasecmp(name, p) == 0) return true;
  return false;
}

// Where the server-wide value comes from (reset_source: a session's SET does not change it).
bool set_on_command_line(const char* name) {
  struct config_generic** vars = get_guc_variables();
  int n = GetNumConfigOptions();
  for (int i = 0; i < n; ++i)
    if (pg_strcasecmp(vars[i]->name, name) == 0) return vars[i]->reset_source == PGC_S_ARGV;
  return false;
}

bool node_is_managed() {
  shmem::FenceState state;
  shmem::read_fence_state(&state);
  return !state.standalone;
}

}  // namespace

void refuse_alter_system_of_managed_parameter(Node* stmt) {
  if (!IsA(stmt, AlterSystemStmt)) return;
  VariableSetStmt* set = castNode(AlterSystemStmt, stmt)->setstmt;
  if (set->kind != VAR_SET_VALUE || !set->name) return;
  if (is_worker_parameter(set->name) && node_is_managed())
    ereport(ERROR,
            (errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM), errmsg("pg_ha: parameter \"%s\" is set by pg_ha on every node", set->name),
             errdetail("pg_ha's worker writes it as the cluster changes; a value in postgresql.auto.conf would "
                       "override the worker's (a primary fenced for good, a standby streaming from a stale upstream)."),
             errhint("Change the cluster with pg_ha.set_config() (synchronous_mode, synchronous_node_count). "
                     "ALTER SYSTEM RESET %s removes an override.", set->name)));
  if (set_on_command_line(set->name))
    ereport(ERROR,
            (errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM),
             errmsg("pg_ha: parameter \"%s\" is set on the postmaster's command line", set->name),
             errdetail("pg_ha_sidecar sets it there from its configuration, and the command line wins over "
                       "postgresql.auto.conf: ALTER SYSTEM would have no effect."),
             errhint("Change it in the node's pg_ha_sidecar configuration and restart the sidecar.")));
}

}  // namespace pg_ha::pg
