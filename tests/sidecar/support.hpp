// Test support for the sidecar suites: free loopback ports, a throw-away etcd, sidecars started
// as child processes (killed when the test process dies), libpq queries as the superuser over a
// node's unix socket, and the worker's side of etcd and of the request channel, emulated.
// Written for this suite; tests/harness may replace parts of it once it lands.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd/client.hpp"

namespace pg_ha::sidecar_test {

int free_port();
int64_t now_ms();
// Polls `done` every 50 ms until it holds or `timeout_ms` passes.
bool wait_until(const std::function<bool()>& done, int64_t timeout_ms);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
void chown_postgres(const std::string& path);
std::string make_temp_dir();   // /tmp/pghasc-XXXXXX, owned by postgres
bool running_as_root();

// A child process killed (SIGKILL) when this object dies or the test process exits.
class Child {
 public:
  // `run_as`: the OS user to run as (applied when the test runs as root).
  Child(const std::vector<std::string>& argv, const std::string& log_file, const std::string& run_as = "");
  ~Child();
  pid_t pid() const { return pid_; }
  bool alive();
  int exit_code() const { return exit_code_; }
  void signal(int sig);
  bool wait_exit(int64_t timeout_ms);

 private:
  pid_t pid_ = 0;
  int exit_code_ = -1;
};

class Etcd {
 public:
  explicit Etcd(const std::string& dir);
  const std::string& endpoint() const { return endpoint_; }
  etcd::Client& client() { return *client_; }

 private:
  std::string endpoint_;
  std::unique_ptr<Child> process_;
  std::unique_ptr<etcd::Client> client_;
};

constexpr const char* kReplicationPassword = "Sidecar-Test-Secret-81f3";

struct NodeSpec {
  std::string name;
  std::string base;         // <base>/data, <base>/state
  int port = 0;
  int http_port = 0;
  std::string preload;      // shared_preload_libraries
};

class SidecarNode {
 public:
  SidecarNode(NodeSpec spec, const std::string& cluster, const std::string& etcd_endpoint, const std::string& passfile);
  ~SidecarNode();
  void start();
  void kill9();                 // the sidecar only; postgres stays (orphaned)
  void stop();                  // SIGTERM and wait: postgres is stopped by the sidecar
  bool sidecar_alive();
  Child* process() { return process_.get(); }

  const NodeSpec& spec() const { return spec_; }
  std::string data_dir() const { return spec_.base + "/data"; }
  std::string state_dir() const { return spec_.base + "/state"; }
  std::string socket_dir() const { return spec_.base + "/run"; }
  std::string config_file() const { return spec_.base + "/sidecar.conf"; }
  std::string log_file() const { return spec_.base + "/sidecar.log"; }

  // One query as the superuser over the unix socket; nullopt when it fails. First column of the
  // first row ("" for no rows).
  std::optional<std::string> sql(const std::string& query) const;
  bool accepting() const;
  pid_t postmaster_pid() const;
  // HTTP GET on the sidecar: status code (0 = no answer) and body.
  int http_get(const std::string& path, std::string* body = nullptr) const;
  // Writes a worker request (temp + rename, as the worker does).
  void write_request(const std::string& json) const;
  std::string result_json() const;

 private:
  NodeSpec spec_;
  std::unique_ptr<Child> process_;
};

// Kills every postmaster whose data directory lies under `base` (failed tests leave them).
void kill_postmasters_under(const std::string& base);

}  // namespace pg_ha::sidecar_test
