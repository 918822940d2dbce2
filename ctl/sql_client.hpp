// pg_hactl's only way into the cluster: one libpq connection to any node (a connection string,
// a URI or a service; empty = libpq's PG* environment), and queries with text parameters against
// pg_ha's SQL API (docs/sql-api.md). Failures become ctl::Failure: a connection that cannot be
// made or is lost -> kExitUnreachable, an error the server raised -> kExitRefused with its message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace pg_ha::ctl {

using Param = std::optional<std::string>;   // nullopt = SQL NULL

class SqlClient {
 public:
  explicit SqlClient(const std::string& dsn);   // connects, or throws Failure(kExitUnreachable)

  // The first column of the first row, as text ("" for NULL); throws when there is no row.
  std::string value(const std::string& sql, const std::vector<Param>& params = {});
  // Which node answered ("host:port"), for messages.
  std::string where() const;

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

}  // namespace pg_ha::ctl
