#include "firewall.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "harness/process.hpp"

namespace pg_ha::test {

namespace {

constexpr const char* kTablePrefix = "pg_ha_faults_";

std::string nft_output(const std::vector<std::string>& args) {
  char path[] = "/tmp/pg_ha_nft_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  std::vector<std::string> argv = {"nft"};
  argv.insert(argv.end(), args.begin(), args.end());
  run_command({argv, path, "", {}, ""});
  std::string out = tail_file(path, 1 << 20);
  unlink(path);
  return out;
}

int nft(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"nft"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command({argv, "", "", {}, ""});
}

// Tables of earlier runs whose process is gone.
void delete_leftover_tables() {
  std::istringstream in(nft_output({"list", "tables", "inet"}));
  std::string word, family, name;
  while (in >> word >> family >> name) {   // "table inet <name>"
    if (name.rfind(kTablePrefix, 0) != 0) continue;
    long pid = std::atol(name.c_str() + std::string(kTablePrefix).size());
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
    nft({"delete", "table", "inet", name});
  }
}

unsigned uid_of(const std::string& user) {
  passwd* pw = getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("no such OS user " + user);
  return pw->pw_uid;
}

}  // namespace

bool Firewall::available() {
  return geteuid() == 0 && run_command({{"nft", "list", "tables"}, "", "", {}, ""}) == 0;
}

Firewall::Firewall() : table_(kTablePrefix + std::to_string(getpid())) {
  delete_leftover_tables();
  nft({"delete", "table", "inet", table_});   // our own, from an earlier Firewall in this process
  apply({});
}

Firewall::~Firewall() { nft({"delete", "table", "inet", table_}); }

void Firewall::apply(const std::vector<std::string>& rules) {
  std::string script = "add table inet " + table_ + "\nadd chain inet " + table_ +
                       " out { type filter hook output priority 0; policy accept; }\n";
  for (const std::string& r : rules) script += "add rule inet " + table_ + " out oifname \"lo\" " + r + "\n";
  char path[] = "/tmp/pg_ha_nft_rules_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  bool written = write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size());
  close(fd);
  int rc = written ? nft({"-f", path}) : -1;
  unlink(path);
  if (rc != 0) throw std::runtime_error("nft refused the rules:\n" + script);
}

void Firewall::cut(const std::string& user, int port) {
  unsigned uid = uid_of(user);
  std::string p = std::to_string(port);
  // New connections first, so that none appears between the scan below and its rules.
  apply({"meta skuid " + std::to_string(uid) + " tcp dport " + p + " drop"});
  std::vector<std::string> established;
  for (int local : local_ports_to(uid, port)) {
    std::string l = std::to_string(local);
    established.push_back("tcp sport " + l + " tcp dport " + p + " drop");
    established.push_back("tcp sport " + p + " tcp dport " + l + " drop");
  }
  if (!established.empty()) apply(established);
}

void Firewall::heal() { nft({"flush", "chain", "inet", table_, "out"}); }

std::string Firewall::list() const { return nft_output({"list", "table", "inet", table_}); }

std::vector<int> local_ports_to(unsigned uid, int port) {
  std::vector<int> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);   // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr;
      unsigned owner = 0;
      if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> owner)) continue;
      if (owner != uid || state == "0A") continue;   // 0A: LISTEN
      int remote_port = std::stoi(remote.substr(remote.rfind(':') + 1), nullptr, 16);
      if (remote_port != port) continue;
      out.push_back(std::stoi(local.substr(local.rfind(':') + 1), nullptr, 16));
    }
  }
  return out;
}

}  // namespace pg_ha::test
