// The cluster in one query, as JSON: {"cluster": name, "leader", "term", "paused",
// "sync_standbys": [...], "members": [pg_ha.members() rows]}. Members are read by column name,
// so columns added to members() later show up in --format json without a change here.
#pragma once

#include <nlohmann/json.hpp>

#include "sql_client.hpp"

namespace pg_ha::ctl {

nlohmann::json read_cluster(SqlClient& db);

}  // namespace pg_ha::ctl
