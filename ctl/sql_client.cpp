#include "sql_client.hpp"

#include "failure.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A server error as the operator should read it: the message without "ERROR:", plus the hint
// when pg_ha is not installed on the node that answered.
std::string server_message(const PGresult* res) {
  const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  std::string code = state ? state : "";
  const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  const char* hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
  std::string text = primary ? primary : trimmed(PQresultErrorMessage(res));
  if (detail) text += ": " + std::string(detail);
  if (hint) text += " (" + std::string(hint) + ")";
  if (code == "3F000" || code == "42883")
    text += " (is the pg_ha extension created in this database? CREATE EXTENSION pg_ha)";
  if (code == "42501") text += " (pg_hactl needs a superuser or a member of pgha_admin; pg_monitor may read status)";
  return text;
}

}  // namespace

SqlClient::SqlClient(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str()), &PQfinish) {
  if (!conn_) throw Failure(kExitUnreachable, "cannot connect: out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw Failure(kExitUnreachable, "cannot connect to " + (dsn.empty() ? std::string("the PG* environment's server") : "\"" + dsn + "\"") +
                                         ": " + trimmed(PQerrorMessage(conn_.get())));
  // pg_hactl never waits on a wedged node forever; the control functions have their own etcd deadline.
  PQclear(PQexec(conn_.get(), "SET statement_timeout = '30s'"));
}

std::string SqlClient::value(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0),
      &PQclear);
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw Failure(kExitUnreachable, "lost the connection to " + where() + ": " + trimmed(PQerrorMessage(conn_.get())));
  ExecStatusType status = PQresultStatus(res.get());
  if (status != PGRES_TUPLES_OK) throw Failure(kExitRefused, server_message(res.get()));
  if (PQntuples(res.get()) < 1 || PQnfields(res.get()) < 1) throw Failure(kExitRefused, "the server returned no row for: " + sql);
  return PQgetisnull(res.get(), 0, 0) ? "" : PQgetvalue(res.get(), 0, 0);
}

std::string SqlClient::where() const {
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  return std::string(host ? host : "?") + ":" + (port ? port : "?");
}

}  // namespace pg_ha::ctl
