#include "pq.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <map>
#include <memory>

namespace pg_ha::test {
namespace {

using Conn = std::unique_ptr<PGconn, void (*)(PGconn*)>;
using Res = std::unique_ptr<PGresult, void (*)(PGresult*)>;

Result<Conn> connect(const std::string& conninfo) {
  Conn conn(PQconnectdb(conninfo.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) return make_error(ErrorKind::Unavailable, PQerrorMessage(conn.get()));
  return conn;
}

Result<Rows> rows_of(PGresult* res) {
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return make_error(ErrorKind::Invalid, PQresultErrorMessage(res));
  }
  Rows rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < PQnfields(res); ++c) row.push_back(PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sends `sql` and waits for its last result until `deadline`; Unavailable when the connection
// broke or the deadline passed (the caller drops the connection then).
Result<Rows> run_until(PGconn* conn, const std::string& sql, int64_t deadline) {
  if (!PQsendQuery(conn, sql.c_str())) return make_error(ErrorKind::Unavailable, PQerrorMessage(conn));
  while (PQisBusy(conn)) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return make_error(ErrorKind::Unavailable, "no answer within the poll's time limit");
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) < 0 || !PQconsumeInput(conn)) {
      return make_error(ErrorKind::Unavailable, PQerrorMessage(conn));
    }
  }
  Result<Rows> last = Rows{};
  while (PGresult* raw = PQgetResult(conn)) {
    Res res(raw, PQclear);
    last = rows_of(res.get());
  }
  if (PQstatus(conn) != CONNECTION_OK) return make_error(ErrorKind::Unavailable, PQerrorMessage(conn));
  return last;
}

}  // namespace

Result<Rows> pq_query(const std::string& conninfo, const std::string& sql) {
  auto conn = connect(conninfo);
  if (!conn.ok()) return conn.error();
  Res res(PQexec(conn->get(), sql.c_str()), PQclear);
  return rows_of(res.get());
}

namespace {

// One try on the kept connection to `conninfo` (made first if there is none); a connection that
// failed is dropped.
Result<Rows> poll_once(std::map<std::string, Conn>& kept, const std::string& conninfo, const std::string& sql,
                       int64_t deadline) {
  auto it = kept.find(conninfo);
  if (it == kept.end()) {
    auto conn = connect(conninfo);
    if (!conn.ok()) return conn.error();
    it = kept.emplace(conninfo, std::move(*conn)).first;
  }
  auto r = run_until(it->second.get(), sql, deadline);
  if (!r.ok() && r.error().kind == ErrorKind::Unavailable) kept.erase(it);
  return r;
}

}  // namespace

Result<Rows> pq_poll(const std::string& conninfo, const std::string& sql, int timeout_ms) {
  thread_local std::map<std::string, Conn> kept;
  int64_t deadline = now_ms() + timeout_ms;
  bool reused = kept.count(conninfo) > 0;
  auto r = poll_once(kept, conninfo, sql, deadline);
  // A kept connection that broke (its server restarted since) is not the node's answer: one more
  // try on a new connection is.
  if (r.ok() || r.error().kind != ErrorKind::Unavailable || !reused || now_ms() >= deadline) return r;
  return poll_once(kept, conninfo, sql, deadline);
}

}  // namespace pg_ha::test
