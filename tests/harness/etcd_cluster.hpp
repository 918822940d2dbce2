// Real etcd clusters (Debian's /usr/bin/etcd) for tests: 1, 3 or 5 members on free loopback
// ports, data and logs under a private temp dir, every process killed when the object dies.
//
//     EtcdCluster etcd({.members = 3});      // starts and waits until healthy, or throws
//     client_options.endpoints = etcd.endpoints();
//     etcd.kill9(etcd.leader_index());        // a crash; restart(i) brings it back
//
// Throws std::runtime_error (with the member's log tail) when a member cannot start: in a gtest
// that fails the test with the reason. Later suites (PostgreSQL nodes, sidecars) reuse the
// same building blocks: ports.hpp, process.hpp, temp_dir.hpp, test_ca.hpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/process.hpp"
#include "harness/temp_dir.hpp"
#include "harness/test_ca.hpp"

namespace pg_ha::test {

struct EtcdClusterOptions {
  int members = 1;
  bool tls = false;                     // clients use https with a TestCa made at start
  bool client_cert_auth = false;        // with tls: members require a client certificate
  int heartbeat_ms = 50;                // fast elections on loopback (defaults: 100 / 1000)
  int election_ms = 500;
  std::string etcd_binary = "/usr/bin/etcd";
  std::vector<std::string> extra_args;  // appended to every member's command line
  // The OS user of member i (missing = the test's own): tests/faults runs each member as its own
  // user so that a firewall can cut the links between members by socket owner.
  std::vector<std::string> os_users;
  int start_timeout_ms = 15000;
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options = {});
  ~EtcdCluster();  // kills every member (SIGKILL), removes the temp dir
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return int(members_.size()); }
  std::string endpoint(int i) const;            // "http(s)://127.0.0.1:port"
  int client_port(int i) const;
  int peer_port(int i) const;                   // raft traffic between members
  std::vector<std::string> endpoints() const;   // every member, running or not
  const TestCa* ca() const { return ca_ ? &*ca_ : nullptr; }
  const std::string& dir() const { return dir_.path(); }
  std::string log_path(int i) const;

  void stop(int i);       // SIGTERM (a leader hands over leadership cleanly)
  void kill9(int i);      // a crash
  void start(int i);      // start a stopped member again with its data directory
  void restart(int i) { stop(i); start(i); }
  bool running(int i);

  // Health: every running member answers /health with "true"; throws after timeout_ms.
  void wait_healthy(int timeout_ms = 15000);
  bool member_healthy(int i, int timeout_ms = 1000);
  // Index of the current raft leader among running members, -1 if none answers.
  int leader_index();
  // Turns on auth: creates user root (role root) with this password and enables auth.
  void enable_auth(const std::string& root_password);
  // Compacts history up to revision (tests of watch compaction).
  void compact(int64_t revision);

 private:
  struct Member;
  void spawn(int i);
  std::string admin_post(const std::string& path, const std::string& body, const std::string& token = "");

  EtcdClusterOptions options_;
  TempDir dir_;
  std::optional<TestCa> ca_;
  std::vector<std::unique_ptr<Member>> members_;
  std::string cluster_token_;
  std::string root_token_;
};

}  // namespace pg_ha::test
