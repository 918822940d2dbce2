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

Result<Rows> pq_poll(const std::string& conninfo, const std::string& sql, int timeout_ms) {
  thread_local std::map<std::string, Conn> kept;
  int64_t deadline = now_ms() + timeout_ms;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = kept.find(conninfo);
    bool reused = it != kept.end();
    if (!reused) {
      auto conn = connect(conninfo);
      if (!conn.ok()) return conn.error();
      it = kept.emplace(conninfo, std::move(*conn)).first;
    }
    auto r = run_until(it->second.get(), sql, deadline);
    if (r.ok() || r.error().kind != ErrorKind::Unavailable) return r;
    kept.erase(it);
    if (!reused || now_ms() >= deadline) return r;
  }
  return make_error(ErrorKind::Unavailable, "unreachable");
}

}  // namespace pg_ha::test
