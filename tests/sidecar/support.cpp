#include "support.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <libpq-fe.h>

namespace pg_ha::sidecar_test {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool wait_until(const std::function<bool()>& done, int64_t timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

void chown_postgres(const std::string& path) {
  passwd* pw = getpwnam("postgres");
  if (pw && chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + path);
}

// Under TMPDIR when it is set (scripts/test.sh points it at a tmpfs).
std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pghasc-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  chmod(tmpl.c_str(), 0755);
  chown_postgres(tmpl);
  return tmpl;
}

bool running_as_root() { return geteuid() == 0; }

Child::Child(const std::vector<std::string>& argv, const std::string& log_file, const std::string& run_as) {
  passwd* pw = run_as.empty() || !running_as_root() ? nullptr : getpwnam(run_as.c_str());
  if (!run_as.empty() && running_as_root() && !pw) throw std::runtime_error("no such user " + run_as);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    FILE* f = fopen(log_file.c_str(), "a");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    if (pw && (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)) _exit(126);
    // After the user switch, which clears it: a crashed test run leaves no etcd or sidecar behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Child::~Child() {
  if (alive()) {
    kill(pid_, SIGKILL);
    wait_exit(5000);
  }
}

bool Child::alive() {
  if (pid_ <= 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    pid_ = 0;
    return false;
  }
  return true;
}

void Child::signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

bool Child::wait_exit(int64_t timeout_ms) {
  return wait_until([this] { return !alive(); }, timeout_ms);
}

Etcd::Etcd(const std::string& dir) {
  int client_port = free_port(), peer_port = free_port();
  endpoint_ = "http://127.0.0.1:" + std::to_string(client_port);
  std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
  process_ = std::make_unique<Child>(
      std::vector<std::string>{"/usr/bin/etcd", "--name", "e1", "--data-dir", dir + "/etcd", "--listen-client-urls",
                               endpoint_, "--advertise-client-urls", endpoint_, "--listen-peer-urls", peer,
                               "--initial-advertise-peer-urls", peer, "--initial-cluster", "e1=" + peer},
      dir + "/etcd.log");
  etcd::Options options;
  options.endpoints = {endpoint_};
  auto client = etcd::Client::create(options);
  if (!client) throw std::runtime_error(client.error().message);
  client_ = std::move(*client);
  bool up = wait_until([this] { return client_->get("/probe").ok(); }, 15000);
  if (!up) throw std::runtime_error("etcd did not start: see " + dir + "/etcd.log");
}

SidecarNode::SidecarNode(NodeSpec spec, const std::string& cluster, const std::string& etcd_endpoint,
                         const std::string& passfile)
    : spec_(std::move(spec)) {
  mkdir(spec_.base.c_str(), 0755);
  chown_postgres(spec_.base);
  std::string conf = "# test node\n"
                     "name = '" + spec_.name + "'\n"
                     "cluster = '" + cluster + "'\n"
                     "data_dir = '" + data_dir() + "'\n"
                     "state_dir = '" + state_dir() + "'\n"
                     "socket_dir = '" + socket_dir() + "'\n"
                     "listen_host = 127.0.0.1\n"
                     "port = " + std::to_string(spec_.port) + "\n"
                     "http_listen = '127.0.0.1:" + std::to_string(spec_.http_port) + "'\n"
                     "etcd_endpoints = '" + etcd_endpoint + "'\n"
                     "replication_passfile = '" + passfile + "'\n"
                     "shared_preload_libraries = '" + spec_.preload + "'\n"
                     "wal_keep_size = '64MB'\n"
                     "tool_sync = off\n";
  write_file(config_file(), conf);
  // These tests emulate the worker through etcd; postgres runs without one. A node whose worker
  // has run has pg_ha.auto.conf, and only then does its sidecar name the leader as upstream before
  // the worker does (sidecar/requests.cpp initial_upstream, tests/sim/FINDINGS.md F16).
  mkdir(state_dir().c_str(), 0700);
  chown_postgres(state_dir());
  write_file(state_dir() + "/pg_ha.auto.conf", "# emulated worker: no settings\n");
  chown_postgres(state_dir() + "/pg_ha.auto.conf");
}

SidecarNode::~SidecarNode() {
  if (process_ && process_->alive()) stop();
  kill_postmasters_under(spec_.base);
}

void SidecarNode::start() {
  // As the OS user that owns the node's files: the sidecar refuses root.
  process_ = std::make_unique<Child>(std::vector<std::string>{PG_HA_SIDECAR_BIN, "--config", config_file()}, log_file(),
                                     "postgres");
}

void SidecarNode::kill9() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_exit(5000);
}

void SidecarNode::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait_exit(30000)) kill9();
}

bool SidecarNode::sidecar_alive() { return process_ && process_->alive(); }

std::optional<std::string> SidecarNode::sql(const std::string& query) const {
  std::string conninfo = "host=" + socket_dir() + " port=" + std::to_string(spec_.port) +
                         " user=postgres dbname=postgres connect_timeout=2";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return std::nullopt;
  }
  PGresult* res = PQexec(conn, query.c_str());
  std::optional<std::string> out;
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_TUPLES_OK) out = PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "";
  else if (st == PGRES_COMMAND_OK) out = "";
  PQclear(res);
  PQfinish(conn);
  return out;
}

bool SidecarNode::accepting() const { return sql("SELECT 1").has_value(); }

pid_t SidecarNode::postmaster_pid() const {
  std::ifstream in(data_dir() + "/postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

int SidecarNode::http_get(const std::string& path, std::string* body) const {
  httplib::Client client("127.0.0.1", spec_.http_port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path.c_str());
  if (!res) return 0;
  if (body) *body = res->body;
  return res->status;
}

void SidecarNode::write_request(const std::string& json) const {
  std::string path = state_dir() + "/sidecar.request.json";
  write_file(path + ".tmp", json);
  rename((path + ".tmp").c_str(), path.c_str());
}

std::string SidecarNode::result_json() const { return read_file(state_dir() + "/sidecar.result.json"); }

void kill_postmasters_under(const std::string& base) {
  DIR* d = opendir("/proc");
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_file("/proc/" + name + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find("postgres -D " + base) != std::string::npos) kill(std::stoi(name), SIGKILL);
  }
  closedir(d);
}

}  // namespace pg_ha::sidecar_test
