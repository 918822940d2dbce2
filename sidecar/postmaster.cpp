#include "postmaster.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <libpq-fe.h>

#include "down_state.hpp"
#include "log.hpp"
#include "wiring.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

// The pid on the first line of a PostgreSQL lock file (postmaster.pid, .s.PGSQL.<port>.lock); 0 if none.
pid_t pid_in_lock_file(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  return in >> pid && pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

std::string local_conninfo(const Node& node, int timeout_s) {
  return "host='" + node.socket_dir() + "' port=" + std::to_string(node.config.port) + " user='" +
         node.config.superuser + "' dbname=postgres application_name=pg_ha_sidecar connect_timeout=" +
         std::to_string(timeout_s) + " options='-c statement_timeout=" + std::to_string(timeout_s * 1000) + "'";
}

Status Postmaster::start(const std::vector<std::string>& extra_options) {
  if (running()) return ok_status();
  remove_lock_files_of_zombie();
  std::vector<std::string> argv = {node_.tool("postgres"), "-D", node_.config.data_dir, "-c",
                                   "config_file=" + node_.conf_path()};
  // The wiring first: an extra option for the same name (a private start) comes later and wins.
  std::vector<std::string> options = wiring_options(node_);
  options.insert(options.end(), extra_options.begin(), extra_options.end());
  for (const auto& o : options) {
    argv.push_back("-c");
    argv.push_back(o);
  }
  SpawnOptions o;
  o.run_as = node_.run_as;
  o.output_file = node_.postgres_log();
  o.die_with_parent = false;
  // libpq inside the server (the walreceiver) finds the replication password here too, whatever
  // primary_conninfo the worker writes.
  o.env["PGPASSFILE"] = node_.config.replication_passfile;
  o.env["PGUSER"] = node_.config.replication_user;
  struct stat log_stat {};
  log_offset_ = stat(node_.postgres_log().c_str(), &log_stat) == 0 ? log_stat.st_size : 0;
  auto pid = spawn(argv, o);
  if (!pid) return pid.error();
  pid_ = *pid;
  adopted_ = false;
  served_ = false;
  log_info("started postgres (pid " + std::to_string(pid_) + ")" +
           (has_standby_signal_file() ? " as a standby" : "") + ", log in " + node_.postgres_log());
  return ok_status();
}

// PostgreSQL says why it did not start in its last lines before exiting (down_state.hpp).
std::string Postmaster::exit_reason() const { return reason_from_log(log_since_start()); }

bool Postmaster::has_standby_signal_file() const { return path_exists(node_.data_file("standby.signal")); }

// An adopted postmaster that died is not this sidecar's child: if whatever inherited it never
// reaps it, its pid stays taken, and PostgreSQL, which tests the pid in its lock files with
// kill(pid, 0), refuses to start ("lock file already exists") for as long as the zombie lasts.
// A zombie runs nothing, so those lock files are stale. Without them PostgreSQL still refuses to
// start while a backend of the old postmaster is attached to its shared memory (keyed by the data
// directory, not by a lock file).
void Postmaster::remove_lock_files_of_zombie() const {
  std::string socket_lock = node_.socket_dir() + "/.s.PGSQL." + std::to_string(node_.config.port) + ".lock";
  for (const std::string& lock : {node_.data_file("postmaster.pid"), socket_lock}) {
    pid_t pid = pid_in_lock_file(lock);
    if (pid <= 0 || !pid_is_zombie(pid)) continue;
    if (unlink(lock.c_str()) == 0)
      log_warn("removed " + lock + ": it names pid " + std::to_string(pid) +
               ", an exited postgres that its parent has not reaped (a zombie)");
    else
      log_error("cannot remove " + lock + " of the exited postgres (pid " + std::to_string(pid) + "): " + std::strerror(errno));
  }
}

bool Postmaster::adopt_running() {
  pid_t pid = pid_in_lock_file(node_.data_file("postmaster.pid"));
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0) return false;
  // The pid must be a postgres of this data directory, not a recycled pid.
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  if (cmdline.find("postgres") == std::string::npos || cmdline.find(node_.config.data_dir) == std::string::npos)
    return false;
  pid_ = pid;
  adopted_ = true;
  served_ = true;
  log_info("adopted the running postgres (pid " + std::to_string(pid_) + ") left by an earlier sidecar");
  return true;
}

bool Postmaster::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (!reap(pid_, &status)) return true;
  last_status_ = status;
  pid_ = 0;
  return false;
}

Status Postmaster::stop(int64_t timeout_ms) {
  if (!running()) return ok_status();
  log_info("stopping postgres (pid " + std::to_string(pid_) + ", fast shutdown)");
  kill(pid_, SIGINT);
  int64_t deadline = monotonic_ms() + timeout_ms;
  bool escalated = false;
  while (running()) {
    if (!escalated && monotonic_ms() > deadline) {
      log_warn("postgres did not stop within " + std::to_string(timeout_ms) + " ms: immediate shutdown");
      kill(pid_, SIGQUIT);
      escalated = true;
    }
    struct timespec ts{0, 20 * 1000000L};
    nanosleep(&ts, nullptr);
  }
  log_info("postgres stopped");
  return ok_status();
}

bool Postmaster::accepting() const {
  bool ok = PQping(local_conninfo(node_, 1).c_str()) == PQPING_OK;
  if (ok) served_ = true;
  return ok;
}

std::string Postmaster::log_since_start() const {
  constexpr long long kMaxBytes = 256 * 1024;
  std::ifstream in(node_.postgres_log(), std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  long long end = in.tellg();
  long long from = std::max(log_offset_, end - kMaxBytes);
  if (from >= end) return "";
  in.seekg(from);
  std::string out(static_cast<size_t>(end - from), '\0');
  in.read(&out[0], end - from);
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

Status Postmaster::wait_ready(int64_t timeout_ms) {
  int64_t deadline = monotonic_ms() + timeout_ms;
  while (monotonic_ms() < deadline) {
    if (!running()) return make_error(ErrorKind::Internal, "postgres exited during start-up (" +
                                                                  describe_exit(last_status_) + "); see " +
                                                                  node_.postgres_log());
    if (accepting()) return ok_status();
    if (stop_requested()) return make_error(ErrorKind::Interrupted, "shutdown requested");
    nap_ms(50);
  }
  return make_error(ErrorKind::Internal, "postgres did not accept connections within " + std::to_string(timeout_ms) + " ms");
}

Result<std::vector<std::string>> local_query(const Node& node, const std::string& sql, int timeout_s) {
  PGconn* conn = PQconnectdb(local_conninfo(node, timeout_s).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return make_error(ErrorKind::Unavailable, "cannot connect to the local postgres: " + msg);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return make_error(ErrorKind::Internal, msg);
  }
  std::vector<std::string> row;
  if (st == PGRES_TUPLES_OK && PQntuples(res) > 0)
    for (int i = 0; i < PQnfields(res); ++i) row.push_back(PQgetisnull(res, 0, i) ? "" : PQgetvalue(res, 0, i));
  PQclear(res);
  PQfinish(conn);
  return row;
}

}  // namespace pg_ha::sidecar
