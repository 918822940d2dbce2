#include "harness/etcd_cluster.hpp"

#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/http.hpp"
#include "harness/ports.hpp"

namespace pg_ha::test {

using nlohmann::json;

struct EtcdCluster::Member {
  std::string name;
  int client_port = 0;
  int peer_port = 0;
  std::string data_dir;
  std::string os_user;   // empty: the test's own
  ChildProcess process;
  bool wanted = false;  // should be running (false after stop/kill9)
};

namespace {

std::string peer_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(std::move(options)), dir_("etcd") {
  if (options_.members < 1) throw std::runtime_error("EtcdCluster: at least one member");
  if (options_.tls) ca_ = TestCa::create(dir_.path(), "ca");
  cluster_token_ = "pg_ha-test-" + std::to_string(std::random_device{}());
  for (int i = 0; i < options_.members; ++i) {
    auto m = std::make_unique<Member>();
    m->name = "m" + std::to_string(i);
    m->client_port = pick_free_port();
    m->peer_port = pick_free_port();
    m->data_dir = dir_.sub(m->name + ".data");
    if (i < int(options_.os_users.size())) {
      // etcd creates its data directory with mode 0700: the member's user needs a parent it owns.
      m->os_user = options_.os_users[i];
      m->data_dir = dir_.make_sub(m->name) + "/data";
      if (run_command({{"chown", m->os_user + ":", dir_.sub(m->name)}, "", "", {}, ""}) != 0)
        throw std::runtime_error("EtcdCluster: cannot hand " + dir_.sub(m->name) + " to " + m->os_user);
    }
    members_.push_back(std::move(m));
  }
  for (int i = 0; i < size(); ++i) spawn(i);
  wait_healthy(options_.start_timeout_ms);
}

EtcdCluster::~EtcdCluster() {
  for (auto& m : members_) m->process.kill9();
}

std::string EtcdCluster::endpoint(int i) const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(members_.at(i)->client_port);
}

int EtcdCluster::client_port(int i) const { return members_.at(i)->client_port; }
int EtcdCluster::peer_port(int i) const { return members_.at(i)->peer_port; }

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::log_path(int i) const { return dir_.sub(members_.at(i)->name + ".log"); }

void EtcdCluster::spawn(int i) {
  Member& m = *members_.at(i);
  std::string initial;
  for (const auto& other : members_) initial += (initial.empty() ? "" : ",") + other->name + "=" + peer_url(other->peer_port);
  std::vector<std::string> args = {
      options_.etcd_binary, "--name", m.name, "--data-dir", m.data_dir,
      "--listen-client-urls", endpoint(i), "--advertise-client-urls", endpoint(i),
      "--listen-peer-urls", peer_url(m.peer_port), "--initial-advertise-peer-urls", peer_url(m.peer_port),
      "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", cluster_token_,
      "--heartbeat-interval", std::to_string(options_.heartbeat_ms),
      "--election-timeout", std::to_string(options_.election_ms),
      "--logger", "zap", "--log-outputs", "stderr"};
  if (ca_) {
    args.insert(args.end(), {"--cert-file", ca_->server_cert, "--key-file", ca_->server_key});
    // etcd asks every client for a certificate as soon as it has a trusted CA: only with cert auth.
    if (options_.client_cert_auth) args.insert(args.end(), {"--client-cert-auth", "--trusted-ca-file", ca_->ca_cert});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  SpawnOptions so;
  so.argv = args;
  so.log_path = log_path(i);
  so.run_as_user = m.os_user;
  // etcd >= 3.4 warns about, but honours, ETCD_UNSUPPORTED_ARCH only on odd platforms: nothing else needed.
  m.process = ChildProcess::spawn(so);
  m.wanted = true;
}

void EtcdCluster::stop(int i) {
  members_.at(i)->wanted = false;
  members_.at(i)->process.stop(10000);
}

void EtcdCluster::kill9(int i) {
  members_.at(i)->wanted = false;
  members_.at(i)->process.kill9();
}

void EtcdCluster::start(int i) {
  if (running(i)) return;
  spawn(i);  // an existing data dir makes etcd ignore the --initial-cluster flags
}

bool EtcdCluster::running(int i) { return members_.at(i)->process.running(); }

bool EtcdCluster::member_healthy(int i, int timeout_ms) {
  HttpTls tls;
  if (ca_) tls = HttpTls{ca_->ca_cert, ca_->client_cert, ca_->client_key};
  HttpResult r = http_request(endpoint(i) + "/health", "", timeout_ms, tls);
  return r.ok && r.status == 200 && r.body.find("\"true\"") != std::string::npos;
}

void EtcdCluster::wait_healthy(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool all = true;
    for (int i = 0; i < size(); ++i) {
      if (!members_[i]->wanted) continue;  // stopped or killed on purpose
      if (!running(i)) throw std::runtime_error("etcd member " + members_[i]->name + " exited:\n" + tail_file(log_path(i)));
      if (all && !member_healthy(i, 500)) all = false;
    }
    if (all) return;
    if (std::chrono::steady_clock::now() > deadline) {
      std::string logs;
      for (int i = 0; i < size(); ++i) logs += "--- " + members_[i]->name + " ---\n" + tail_file(log_path(i), 1500);
      throw std::runtime_error("etcd cluster not healthy after " + std::to_string(timeout_ms) + " ms\n" + logs);
    }
    sleep_ms(50);
  }
}

int EtcdCluster::leader_index() {
  HttpTls tls;
  if (ca_) tls = HttpTls{ca_->ca_cert, ca_->client_cert, ca_->client_key};
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    HttpResult r = http_request(endpoint(i) + "/v3/maintenance/status", "{}", 1000, tls);
    if (!r.ok || r.status != 200) continue;
    json doc = json::parse(r.body, nullptr, false);
    if (!doc.is_object() || !doc.contains("leader") || !doc.contains("header")) continue;
    std::string self = doc["header"].value("member_id", "");
    std::string leader = doc.value("leader", "");
    if (!leader.empty() && leader == self) return i;
  }
  return -1;
}

std::string EtcdCluster::admin_post(const std::string& path, const std::string& body, const std::string& token) {
  HttpTls tls;
  if (ca_) tls = HttpTls{ca_->ca_cert, ca_->client_cert, ca_->client_key};
  std::string last;
  // Any running member will do; retry briefly across an election.
  for (int attempt = 0; attempt < 40; ++attempt) {
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      HttpResult r = http_request(endpoint(i) + path, body, 2000, tls, token.empty() ? "" : "Authorization: " + token);
      if (r.ok && r.status == 200) return r.body;
      last = r.ok ? "HTTP " + std::to_string(r.status) + ": " + r.body : r.error;
    }
    sleep_ms(50);
  }
  throw std::runtime_error("etcd admin call " + path + " failed: " + last);
}

void EtcdCluster::enable_auth(const std::string& root_password) {
  admin_post("/v3/auth/user/add", json{{"name", "root"}, {"password", root_password}}.dump());
  admin_post("/v3/auth/user/grant", json{{"user", "root"}, {"role", "root"}}.dump());
  admin_post("/v3/auth/enable", "{}");
  json doc = json::parse(admin_post("/v3/auth/authenticate", json{{"name", "root"}, {"password", root_password}}.dump()));
  root_token_ = doc.value("token", "");
}

void EtcdCluster::compact(int64_t revision) {
  json body = {{"revision", std::to_string(revision)}, {"physical", true}};
  admin_post("/v3/kv/compaction", body.dump(), root_token_);
}

}  // namespace pg_ha::test
