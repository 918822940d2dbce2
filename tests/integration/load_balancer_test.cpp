// HAProxy and pgbouncer, run from the example configs an operator copies (docs/examples,
// docs/operations.md): a client that knows only the proxy's address reaches the primary, and the
// new primary after a switchover and after a whole-node kill; the replica port reaches a replica;
// an application writing through pgbouncer writes on the new primary after a switchover.
// No speed is asserted; the stalls are printed as "[ measured ]" lines.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fixture.hpp"
#include "harness/ports.hpp"
#include "harness/process.hpp"
#include "harness/temp_dir.hpp"

namespace pg_ha::test {
namespace {

// The example file with every ${NAME} (capitals, digits, _) replaced; a placeholder without a
// value is an error, so a new one in the example cannot go untested.
std::string render_example(const std::string& file, const std::map<std::string, std::string>& values) {
  std::ifstream in(std::string(PG_HA_SOURCE_DIR) + "/docs/examples/" + file);
  if (!in) throw std::runtime_error("cannot read docs/examples/" + file);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str(), out;
  for (size_t i = 0; i < s.size();) {
    size_t open = s.find("${", i);
    if (open == std::string::npos) { out += s.substr(i); break; }
    size_t close = s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", open + 2);
    if (close == std::string::npos || s[close] != '}' || close == open + 2) {  // prose, such as "${...}"
      out += s.substr(i, open + 2 - i);
      i = open + 2;
      continue;
    }
    std::string name = s.substr(open + 2, close - open - 2);
    auto v = values.find(name);
    if (v == values.end()) throw std::runtime_error(file + ": no value for ${" + name + "}");
    out += s.substr(i, open - i) + v->second;
    i = close + 1;
  }
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

class LoadBalancer : public Cluster {
 protected:
  void start_haproxy() {
    primary_port_ = pick_free_port();
    replica_port_ = pick_free_port();
    std::map<std::string, std::string> v{{"LISTEN_HOST", "127.0.0.1"},
                                         {"PRIMARY_PORT", std::to_string(primary_port_)},
                                         {"REPLICA_PORT", std::to_string(replica_port_)}};
    for (int i = 0; i < c_->size(); ++i) {
      std::string n = "NODE" + std::to_string(i + 1) + "_";
      v[n + "HOST"] = "127.0.0.1";
      v[n + "PG_PORT"] = std::to_string(c_->port(i));
      v[n + "HTTP_PORT"] = std::to_string(c_->http_port(i));
    }
    std::string cfg = dir_.sub("haproxy.cfg");
    write_text(cfg, render_example("haproxy.cfg", v));
    ASSERT_EQ(run_command({{"haproxy", "-c", "-f", cfg}, dir_.sub("haproxy-check.log"), "", {}, ""}), 0)
        << "haproxy rejects the example config:\n" << tail_file(dir_.sub("haproxy-check.log"));
    haproxy_ = ChildProcess::spawn({{"haproxy", "-db", "-f", cfg}, dir_.sub("haproxy.log"), "", {}, ""});
  }

  void start_pgbouncer() {
    pgbouncer_port_ = pick_free_port();
    std::string auth = dir_.sub("userlist.txt"), ini = dir_.sub("pgbouncer.ini");
    write_text(auth, "\"app\" \"it-app\"\n");
    write_text(ini, render_example("pgbouncer.ini", {{"HAPROXY_HOST", "127.0.0.1"},
                                                    {"PRIMARY_PORT", std::to_string(primary_port_)},
                                                    {"LISTEN_HOST", "127.0.0.1"},
                                                    {"PGBOUNCER_PORT", std::to_string(pgbouncer_port_)},
                                                    {"AUTH_FILE", auth},
                                                    {"LOG_FILE", dir_.sub("pgbouncer.log")},
                                                    {"PID_FILE", dir_.sub("pgbouncer.pid")}}));
    // pgbouncer refuses to run as root, as PostgreSQL does.
    ASSERT_EQ(run_command({{"chown", "-R", "postgres:", dir_.path()}, "", "", {}, ""}), 0);
    pgbouncer_ = ChildProcess::spawn({{"pgbouncer", ini}, dir_.sub("pgbouncer.out"), "", {}, "postgres"});
  }

  std::string via(int port, const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db +
           " user=app password=it-app connect_timeout=2";
  }
  // The PostgreSQL port a new session through `port` lands on, and whether that server is a
  // replica; nullopt when no session could be made.
  std::optional<std::pair<int, bool>> landing(int port) const {
    auto r = pq_query(via(port), "SELECT inet_server_port(), pg_is_in_recovery()");
    if (!r.ok() || r->empty()) return std::nullopt;
    return std::make_pair(std::stoi((*r)[0][0]), (*r)[0][1] == "t");
  }
  bool reaches_primary(int node) const {
    auto l = landing(primary_port_);
    return l && l->first == c_->port(node) && !l->second;
  }
  std::string proxy_logs() const {
    return "--- haproxy.log\n" + tail_file(dir_.sub("haproxy.log")) + "\n--- pgbouncer.log\n" +
           tail_file(dir_.sub("pgbouncer.log")) + "\n" + logs();
  }

  TempDir dir_{"pg_ha_lb"};
  ChildProcess haproxy_, pgbouncer_;
  int primary_port_ = 0, replica_port_ = 0, pgbouncer_port_ = 0;
};

TEST_F(LoadBalancer, HaproxyFollowsThePrimaryThroughASwitchoverAndANodeKill) {
  start();
  start_haproxy();
  ASSERT_TRUE(c_->wait_until([&] { return reaches_primary(primary_); }, kFailoverMs))
      << "the primary port does not reach " << c_->name(primary_) << "\n" << proxy_logs();
  // HAProxy counts a server as up until its first check has run: then, round robin over the
  // replicas, every landing is a replica.
  std::string seen;
  bool replicas_only = c_->wait_until([&] {
    for (int k = 0; k < 4; ++k) {
      auto l = landing(replica_port_);
      seen = l ? std::to_string(l->first) + (l->second ? " (replica)" : " (primary)") : "nothing";
      if (!l || !l->second) return false;
    }
    return true;
  }, kFailoverMs);
  ASSERT_TRUE(replicas_only) << "the replica port reached " << seen << "\n" << proxy_logs();

  int target = (primary_ + 1) % c_->size();
  int64_t asked = monotonic_ms();
  control(primary_, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
  ASSERT_TRUE(c_->wait_until([&] { return reaches_primary(target); }, kFailoverMs))
      << "after the switchover the primary port does not reach " << c_->name(target) << "\n" << proxy_logs();
  std::printf("[ measured ] HAProxy: new sessions reach the new primary %lld ms after the switchover request\n",
              static_cast<long long>(monotonic_ms() - asked));
  primary_ = target;

  kill_primary_node();
  auto np = wait_new_primary(target);
  ASSERT_TRUE(np) << proxy_logs();
  ASSERT_TRUE(c_->wait_until([&] { return reaches_primary(*np); }, kFailoverMs))
      << "after the node kill the primary port does not reach " << c_->name(*np) << "\n" << proxy_logs();
  std::printf("[ measured ] HAProxy: new sessions reach the new primary %lld ms after the node kill\n",
              static_cast<long long>(monotonic_ms() - fault_ms_));
  auto l = landing(primary_port_);
  ASSERT_TRUE(l);
  EXPECT_NE(l->first, c_->port(target)) << "the killed node is still a backend of the primary port";
}

TEST_F(LoadBalancer, APgbouncerSessionWritesAgainAfterASwitchover) {
  start();
  start_haproxy();
  ASSERT_TRUE(c_->wait_until([&] { return reaches_primary(primary_); }, kFailoverMs)) << proxy_logs();
  start_pgbouncer();
  // One application session to pgbouncer's address: pgbouncer and HAProxy, not the
  // application, find the new primary.
  PGconn* app = nullptr;
  ASSERT_TRUE(c_->wait_until([&] {
    if (app) PQfinish(app);
    app = PQconnectdb(via(pgbouncer_port_).c_str());
    return PQstatus(app) == CONNECTION_OK;
  }, 20000)) << "no session through pgbouncer: " << PQerrorMessage(app) << "\n" << proxy_logs();
  auto exec = [&](const std::string& sql) -> std::string {
    PGresult* r = PQexec(app, sql.c_str());
    std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    if (PQresultStatus(r) == PGRES_COMMAND_OK) out = "ok";
    PQclear(r);
    return out;
  };
  ASSERT_EQ(exec("CREATE TABLE IF NOT EXISTS lb_writes (id bigserial PRIMARY KEY, port int)"), "ok") << PQerrorMessage(app);
  const std::string write = "INSERT INTO lb_writes (port) SELECT inet_server_port() RETURNING port";
  ASSERT_EQ(exec(write), std::to_string(c_->port(primary_))) << PQerrorMessage(app);

  int target = (primary_ + 2) % c_->size();
  int64_t asked = monotonic_ms();
  control(primary_, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
  int failed = 0, reconnects = 0;
  bool moved = c_->wait_until([&] {
    // A statement in flight when the old primary's sessions are cut may take the client's
    // session with it (pgbouncer closes a client whose server died mid-statement): the
    // application reconnects to the same address, as it would after any lost connection.
    if (PQstatus(app) != CONNECTION_OK) {
      ++reconnects;
      PQreset(app);
      return false;
    }
    std::string port = exec(write);
    if (port.empty()) ++failed;
    return port == std::to_string(c_->port(target));
  }, kFailoverMs);
  PQfinish(app);
  ASSERT_TRUE(moved) << "the writes through pgbouncer never reached " << c_->name(target) << "\n" << proxy_logs();
  std::printf("[ measured ] pgbouncer: writes reached the new primary %lld ms after the switchover request "
              "(%d statements failed, %d reconnections meanwhile)\n",
              static_cast<long long>(monotonic_ms() - asked), failed, reconnects);
}

}  // namespace
}  // namespace pg_ha::test
