// A real pg_ha cluster for integration tests: its own etcd (tests/harness), and N nodes, each a
// pg_ha_sidecar (run as its node's OS user, `postgres` unless the options say otherwise) that bootstraps or clones PostgreSQL 15 with
// pg_ha preloaded. Everything runs on loopback on free ports under a private temp dir, and the
// destructor stops every process it started (sidecars, their postmasters, etcd), also when a
// test fails half-way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/etcd_cluster.hpp"
#include "harness/process.hpp"
#include "harness/temp_dir.hpp"
#include "pq.hpp"

namespace pg_ha::test {

struct ClusterOptions {
  int nodes = 3;
  // Dynamic config written to etcd before the first node starts (short ttl keeps tests quick).
  std::string config_json =
      R"({"version":1,"ttl":5,"loop_wait_ms":500,"fence_after_ms":1500,"fence_margin_ms":500,"election_wait_ms":500})";
  std::vector<std::string> extra_node_settings;  // per-node sidecar config lines (all nodes)
  std::map<int, std::vector<std::string>> node_settings;  // more lines for one node (by index)
  // The OS user of each node (by index; missing = `postgres`): its sidecar, postgres and files.
  // tests/faults gives every node its own, so that firewall rules can tell the nodes apart.
  std::vector<std::string> os_users;
  // Called for each node before its first start, with its index, its folder (the data directory
  // is <folder>/data) and its OS user: tests/faults puts a data directory on a small tmpfs here.
  std::function<void(int, const std::string&, const std::string&)> prepare_node;
  // The cluster's own etcd (one member unless the test asks for more).
  EtcdClusterOptions etcd;
  // Node i's etcd endpoints (comma-separated in its config) when the test wants other ones than
  // every member's, e.g. a delaying proxy in front of etcd (tests/faults). Called before node i
  // first starts; an empty answer keeps the default.
  std::function<std::vector<std::string>(int node, const EtcdCluster& etcd)> node_etcd_endpoints;
};

// A node that said it may be written to (pg_ha.health_primary() true), on which timeline, and
// when: the answer was computed between before_us and after_us (this machine's clock, as
// PostgreSQL's clock_timestamp() reads it), whatever the probe's own connection delays were.
struct WritableSample {
  int node = -1;
  int64_t timeline = 0;
  int64_t before_us = 0;
  int64_t after_us = 0;
};

class PgHaCluster {
 public:
  explicit PgHaCluster(ClusterOptions options = {});
  ~PgHaCluster();
  PgHaCluster(const PgHaCluster&) = delete;
  PgHaCluster& operator=(const PgHaCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  std::string name(int i) const { return nodes_[i].name.empty() ? "node" + std::to_string(i + 1) : nodes_[i].name; }
  // Starts one more node, with its own data, state and ports, configured with `name` (which may
  // be another node's: an operator's mistake). Returns its index.
  int add_node(const std::string& name);
  // Exit status (wait(2)) of node i's sidecar once it exited within timeout_ms, else nullopt.
  std::optional<int> sidecar_exit(int i, int timeout_ms);
  // The value of an etcd key under the cluster's prefix ("" when absent).
  std::string etcd_value(const std::string& key_under_cluster) const;
  std::string data_directory(int i) const { return data_dir(i); }
  int index_of(const std::string& name) const;
  int port(int i) const { return nodes_[i].port; }
  // The replication user's passfile (readable by the node's OS user only).
  std::string replication_passfile(int i) const { return nodes_[i].base + "/replication.pgpass"; }
  int http_port(int i) const { return nodes_[i].http_port; }   // the sidecar's health checks and /metrics
  const std::string& os_user(int i) const { return nodes_[i].os_user; }
  EtcdCluster& etcd() { return *etcd_; }
  const std::string& dir() const { return dir_.path(); }

  // Local superuser connection over the node's unix socket.
  std::string conninfo(int i, int connect_timeout_s = 2) const;
  // libpq multi-host string over TCP, as an application would use it.
  std::string multi_host_conninfo(const std::string& attrs = "target_session_attrs=read-write") const;
  Result<Rows> query(int i, const std::string& sql) const { return pq_query(conninfo(i), sql); }

  void start_node(int i);
  void stop_node(int i);                 // SIGTERM to the sidecar; it stops postgres
  // kill -9 the sidecar, the postmaster and its children. Both kills return the monotonic time
  // (writer.hpp's monotonic_ms) at which the postmaster was seen dead: from then on no backend
  // of it may acknowledge a commit.
  int64_t kill_node(int i);
  int64_t kill_postmaster(int i);        // kill -9 the postmaster only (the sidecar notices)
  bool postmaster_running(int i) const;
  pid_t sidecar_pid(int i) const { return nodes_[i].sidecar ? nodes_[i].sidecar->pid() : -1; }
  std::optional<int> postmaster_pid(int i) const;
  // Children of node i's postmaster whose process title contains `title` ("pg_ha worker",
  // "walreceiver"), read from /proc.
  std::vector<pid_t> postmaster_children(int i, const std::string& title) const;
  // One value of SHOW on node i ("" when the node does not answer).
  std::string show(int i, const std::string& parameter) const;

  // Index of the node whose pg_ha.health_primary() is true, among those answering.
  std::optional<int> writable_primary() const;
  // How many nodes report themselves writable (primary and unfenced) in one sweep.
  int count_writable() const;
  // Node i's answer if it reports itself writable, with its timeline and when it answered.
  std::optional<WritableSample> writable_sample(int i) const;
  // Waits for one writable primary and `replicas` streaming replicas (as members() says).
  std::optional<int> wait_healthy(int replicas, int timeout_ms);
  bool wait_until(const std::function<bool()>& cond, int timeout_ms) const;
  std::string logs(int i) const;  // tails of the node's sidecar and postgres logs, for failures
  std::string sidecar_log(int i) const;  // the whole of it

 private:
  struct Node {
    std::string name;   // "" = node<i+1>
    int port = 0;
    int http_port = 0;
    std::string os_user;
    std::string etcd_endpoints;   // comma-separated
    std::string base;
    std::unique_ptr<ChildProcess> sidecar;
  };
  void hand_over_base(const Node& n);
  std::string join_endpoints(const std::vector<std::string>& own) const;
  std::string data_dir(int i) const { return nodes_[i].base + "/data"; }
  std::string state_dir(int i) const { return nodes_[i].base + "/state"; }

  ClusterOptions options_;
  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<Node> nodes_;
  std::string sidecar_bin_;
};

}  // namespace pg_ha::test
