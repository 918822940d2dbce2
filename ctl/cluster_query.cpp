#include "cluster_query.hpp"

#include "output.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {

nlohmann::json read_cluster(SqlClient& db) {
  const char* sql =
      "SELECT json_build_object('cluster', current_setting('pg_ha.cluster_name', true), "
      "'leader', c.leader, 'term', c.term, 'paused', c.paused, 'sync_standbys', to_json(c.sync_standbys), "
      "'members', (SELECT coalesce(json_agg(m ORDER BY m.name), '[]') FROM pg_ha.members() m))::text "
      "FROM pg_ha.cluster() c";
  return parse_server_json(db.value(sql), "the cluster");
}

}  // namespace pg_ha::ctl
