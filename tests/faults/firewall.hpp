// Partitions between the nodes of one machine: every node runs under its own OS user, and an
// nftables table of this run's own drops loopback TCP by the sending socket's owner (`meta skuid`)
// and, for connections already established when a cut starts, by their exact ports in both
// directions (the kernel re-sends packets of a socket its program already closed without an
// owner: those would slip through a skuid rule). Loopback only (oifname "lo").
//
// The table is named pg_ha_faults_<pid>. The constructor deletes tables left by runs whose process
// is gone (a crashed run); the destructor deletes this run's table, also when a test fails.
#pragma once

#include <string>
#include <vector>

namespace pg_ha::test {

class Firewall {
 public:
  Firewall();
  ~Firewall();
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;

  // Processes of OS user `user` can no longer reach TCP `port` on loopback: new connections and
  // the ones established now, both directions.
  void cut(const std::string& user, int port);
  // Every rule goes; the table stays until the destructor.
  void heal();
  const std::string& table() const { return table_; }
  // The rules now in the table, for failure messages.
  std::string list() const;

  // True when nft works here (root, nftables installed).
  static bool available();

 private:
  void apply(const std::vector<std::string>& rules);
  std::string table_;
};

// Established TCP connections (both IPv4 and IPv6 tables of /proc/net) whose socket belongs to
// `uid` and whose remote port is `port`: their local ports.
std::vector<int> local_ports_to(unsigned uid, int port);

}  // namespace pg_ha::test
