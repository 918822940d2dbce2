#include "cluster.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "etcd/client.hpp"
#include "harness/ports.hpp"

namespace pg_ha::test {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void put_config(const std::vector<std::string>& endpoints, const std::string& cluster, const std::string& json) {
  etcd::Options o;
  o.endpoints = endpoints;
  auto client = etcd::Client::create(o);
  if (!client.ok()) throw std::runtime_error(client.error().message);
  auto r = (*client)->put("/pg_ha/" + cluster + "/config", json);
  if (!r.ok()) throw std::runtime_error("could not write the cluster config: " + r.error().message);
}

}  // namespace

PgHaCluster::PgHaCluster(ClusterOptions options) : options_(std::move(options)), dir_("pg_ha_it") {
  dir_.chown_to("postgres");
  etcd_ = std::make_unique<EtcdCluster>(options_.etcd);
  put_config(etcd_->endpoints(), "it", options_.config_json);
  // A copy the nodes' OS users can run even when the build tree is closed to them (under /root).
  sidecar_bin_ = dir_.sub("pg_ha_sidecar");
  if (run_command({{"install", "-m", "0755", PG_HA_SIDECAR_BIN, sidecar_bin_}, "", "", {}, ""}) != 0)
    throw std::runtime_error("cannot copy " + std::string(PG_HA_SIDECAR_BIN));
  nodes_.resize(static_cast<size_t>(options_.nodes));
  for (int i = 0; i < size(); ++i) {
    Node& n = nodes_[i];
    n.port = pick_free_port();
    n.http_port = pick_free_port();
    n.os_user = i < static_cast<int>(options_.os_users.size()) ? options_.os_users[i] : "postgres";
    n.base = dir_.make_sub(name(i));
    n.etcd_endpoints = join_endpoints(options_.node_etcd_endpoints ? options_.node_etcd_endpoints(i, *etcd_)
                                                                   : std::vector<std::string>{});
    hand_over_base(n);
    if (options_.prepare_node) options_.prepare_node(i, n.base, n.os_user);
  }
  for (int i = 0; i < size(); ++i) start_node(i);
}

// The node's folder, with its own passfile (readable by its OS user only: mode 0600), owned by
// its OS user.
void PgHaCluster::hand_over_base(const Node& n) {
  write_file(n.base + "/replication.pgpass", "*:*:*:replicator:It-Replication-Secret-4b1d\n", 0600);   // replication_passfile()
  run_command({{"chown", "-R", n.os_user + ":", n.base}, "", "", {}, ""});
}

// Every member's client URL unless the test gave a node its own list.
std::string PgHaCluster::join_endpoints(const std::vector<std::string>& own) const {
  std::string out;
  for (const std::string& e : own.empty() ? etcd_->endpoints() : own) out += (out.empty() ? "" : ",") + e;
  return out;
}

int PgHaCluster::add_node(const std::string& node_name) {
  Node n;
  n.name = node_name;
  n.port = pick_free_port();
  n.http_port = pick_free_port();
  n.os_user = "postgres";
  n.etcd_endpoints = join_endpoints({});
  n.base = dir_.make_sub("extra" + std::to_string(size() + 1) + "-" + node_name);
  hand_over_base(n);
  nodes_.push_back(std::move(n));
  start_node(size() - 1);
  return size() - 1;
}

std::optional<int> PgHaCluster::sidecar_exit(int i, int timeout_ms) {
  if (!nodes_[i].sidecar) return std::nullopt;
  return nodes_[i].sidecar->wait(timeout_ms);
}

std::string PgHaCluster::etcd_value(const std::string& key) const {
  etcd::Options o;
  o.endpoints = etcd_->endpoints();
  auto client = etcd::Client::create(o);
  if (!client.ok()) return "";
  auto kv = (*client)->get("/pg_ha/it/" + key);
  return kv.ok() && *kv ? (*kv)->value : "";
}

PgHaCluster::~PgHaCluster() {
  for (int i = 0; i < size(); ++i) {
    if (nodes_[i].sidecar) nodes_[i].sidecar->kill9();
    if (auto pid = postmaster_pid(i)) ::kill(*pid, SIGKILL);
  }
}

int PgHaCluster::index_of(const std::string& n) const {
  for (int i = 0; i < size(); ++i) if (name(i) == n) return i;
  return -1;
}

std::string PgHaCluster::conninfo(int i, int connect_timeout_s) const {
  return "host=" + nodes_[i].base + "/run port=" + std::to_string(nodes_[i].port) +
         " user=postgres dbname=postgres connect_timeout=" + std::to_string(connect_timeout_s);
}

std::string PgHaCluster::multi_host_conninfo(const std::string& attrs) const {
  std::string hosts, ports;
  for (int i = 0; i < size(); ++i) {
    hosts += (i ? "," : "") + std::string("127.0.0.1");
    ports += (i ? "," : "") + std::to_string(nodes_[i].port);
  }
  return "host=" + hosts + " port=" + ports + " user=app password=it-app dbname=postgres connect_timeout=1 " + attrs;
}

void PgHaCluster::start_node(int i) {
  Node& n = nodes_[i];
  std::string conf = n.base + "/sidecar.conf";
  std::string text = "name = '" + name(i) + "'\ncluster = 'it'\n" + "data_dir = '" + data_dir(i) + "'\n" +
                     "state_dir = '" + state_dir(i) + "'\nsocket_dir = '" + n.base + "/run'\n" +
                     "listen_host = '127.0.0.1'\nconnect_host = '127.0.0.1'\nport = " + std::to_string(n.port) + "\n" +
                     "http_listen = '127.0.0.1:" + std::to_string(n.http_port) + "'\n" +
                     "etcd_endpoints = '" + n.etcd_endpoints + "'\nreplication_passfile = '" + replication_passfile(i) +
                     "'\nos_user = '" + n.os_user + "'\n";
  // PG_HA_TEST_BIN_DIR: PostgreSQL (with this build's pg_ha installed into it by DESTDIR) from a
  // private tree instead of the system's, so a test needs no install into the system directories.
  if (const char* bin = std::getenv("PG_HA_TEST_BIN_DIR"); bin && *bin) text += std::string("bin_dir = '") + bin + "'\n";
  for (const std::string& line : options_.extra_node_settings) text += line + "\n";
  if (auto own = options_.node_settings.find(i); own != options_.node_settings.end()) {
    for (const std::string& line : own->second) text += line + "\n";
  }
  write_file(conf, text);
  n.sidecar = std::make_unique<ChildProcess>(
      ChildProcess::spawn({{sidecar_bin_, "--config", conf}, n.base + "/sidecar.log", "", {}, n.os_user}));
}

void PgHaCluster::stop_node(int i) {
  if (nodes_[i].sidecar) nodes_[i].sidecar->stop(30000);
}

// postmaster.pid outlives a killed postmaster, and pids wrap (pid_max is 32768 here, and every
// connection forks a backend): the pid in it is this node's postmaster only if that process
// still works in this node's data directory (a postmaster chdir()s there). Without the check a
// test signalled another test's server that had been given the recycled pid.
std::optional<int> PgHaCluster::postmaster_pid(int i) const {
  std::ifstream in(data_dir(i) + "/postmaster.pid");
  int pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  char cwd[PATH_MAX];
  ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd, sizeof cwd - 1);
  if (n <= 0) return std::nullopt;
  cwd[n] = '\0';
  char data[PATH_MAX];
  if (!::realpath(data_dir(i).c_str(), data) || std::string(cwd) != data) return std::nullopt;
  return pid;
}

bool PgHaCluster::postmaster_running(int i) const { return postmaster_pid(i).has_value(); }

std::vector<pid_t> PgHaCluster::postmaster_children(int i, const std::string& title) const {
  std::vector<pid_t> out;
  auto parent = postmaster_pid(i);
  if (!parent) return out;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) return out;
  while (dirent* e = readdir(proc.get())) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2 || ppid != *parent) continue;
    std::ifstream cmd("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    if (cmdline.find(title) != std::string::npos) out.push_back(pid);
  }
  return out;
}

std::string PgHaCluster::show(int i, const std::string& parameter) const {
  auto r = query(i, "SHOW " + parameter);
  return r.ok() && !r->empty() ? (*r)[0][0] : "";
}

namespace {

// True once `pid` has exited (gone, or a zombie nobody reaped yet): its death pipe is closed, so
// every orphaned backend's PostmasterIsAlive() is false from now on.
bool exited(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

int64_t kill_and_wait(int pid) {
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 500 && !exited(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return now_ms();
}

}  // namespace

int64_t PgHaCluster::kill_postmaster(int i) {
  if (auto pid = postmaster_pid(i)) return kill_and_wait(*pid);
  return now_ms();
}

// The whole node at once: sidecar, postmaster and every backend, as a machine crash would.
int64_t PgHaCluster::kill_node(int i) {
  auto pid = postmaster_pid(i);
  if (nodes_[i].sidecar) nodes_[i].sidecar->signal(SIGKILL);
  int64_t dead = now_ms();
  if (pid) {
    // Frozen first so it forks nobody new; its children are found by parent pid while it lives.
    ::kill(*pid, SIGSTOP);
    std::vector<pid_t> children = postmaster_children(i, "");
    dead = kill_and_wait(*pid);
    for (pid_t child : children) ::kill(child, SIGKILL);
  }
  if (nodes_[i].sidecar) nodes_[i].sidecar->wait(5000);
  return dead;
}

std::optional<int> PgHaCluster::writable_primary() const {
  std::optional<int> found;
  for (int i = 0; i < size(); ++i) {
    auto r = pq_poll(conninfo(i, 1), "SELECT ok FROM pg_ha.health_primary()");
    if (r.ok() && !r->empty() && (*r)[0][0] == "t") found = i;
  }
  return found;
}

int PgHaCluster::count_writable() const {
  int n = 0;
  for (int i = 0; i < size(); ++i) {
    auto r = pq_poll(conninfo(i, 1), "SELECT ok FROM pg_ha.health_primary()");
    n += (r.ok() && !r->empty() && (*r)[0][0] == "t") ? 1 : 0;
  }
  return n;
}

std::optional<WritableSample> PgHaCluster::writable_sample(int i) const {
  // The target list is evaluated in order: a clock reading, the health check, a clock reading.
  // A primary's timeline is the one its current WAL file is named for (a primary never changes
  // timeline; a standby's ok is false, and the CASE spares it pg_current_wal_lsn()).
  auto r = pq_poll(conninfo(i, 1),
                   "SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint, (pg_ha.health_primary()).ok, "
                   "(extract(epoch FROM clock_timestamp()) * 1e6)::bigint, CASE WHEN pg_is_in_recovery() THEN 0 "
                   "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END");
  if (!r.ok() || r->empty() || (*r)[0][1] != "t") return std::nullopt;
  const auto& row = (*r)[0];
  return WritableSample{i, std::stoll(row[3]), std::stoll(row[0]), std::stoll(row[2])};
}

bool PgHaCluster::wait_until(const std::function<bool()>& cond, int timeout_ms) const {
  int64_t end = now_ms() + timeout_ms;
  // 200 ms between tries: conditions often open a new connection per try, and each costs the
  // server a backend fork (see pq_poll); a test never needs its conditions seen sooner.
  while (now_ms() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return cond();
}

std::optional<int> PgHaCluster::wait_healthy(int replicas, int timeout_ms) {
  std::optional<int> primary;
  bool ok = wait_until([&] {
    primary = writable_primary();
    if (!primary) return false;
    auto r = pq_poll(conninfo(*primary), "SELECT count(*) FROM pg_ha.members() WHERE role = 'replica' AND state = 'streaming'");
    return r.ok() && std::stoi((*r)[0][0]) >= replicas;
  }, timeout_ms);
  return ok ? primary : std::nullopt;
}

std::string PgHaCluster::logs(int i) const {
  return "--- " + name(i) + " sidecar.log\n" + tail_file(nodes_[i].base + "/sidecar.log", 3000) + "\n--- " + name(i) +
         " postgresql.log\n" + tail_file(state_dir(i) + "/postgresql.log", 3000);
}

std::string PgHaCluster::sidecar_log(int i) const {
  std::ifstream in(nodes_[i].base + "/sidecar.log");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace pg_ha::test
