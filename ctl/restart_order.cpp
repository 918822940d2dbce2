#include "restart_order.hpp"

#include <algorithm>

#include "common/no_postgres.hpp"

namespace pg_ha::ctl {

using json = nlohmann::json;

namespace {

bool is_member(const json& cluster, const std::string& name) {
  for (const json& m : cluster.value("members", json::array()))
    if (m.value("name", "") == name) return true;
  return false;
}

}  // namespace

std::vector<std::string> restart_order(const RestartSelection& s, const json& cluster, const std::string& connected) {
  std::vector<std::string> out;
  std::string leader = cluster.value("leader", json()).is_string() ? cluster["leader"].get<std::string>() : "";
  auto wanted = [&](const json& m) {
    std::string name = m.value("name", "");
    bool named = s.nodes.empty() ? (s.all || s.pending) : std::find(s.nodes.begin(), s.nodes.end(), name) != s.nodes.end();
    bool pending = m.value("pending_restart", json(false)) == json(true);
    return named && (!s.pending || pending);
  };
  for (const json& m : cluster.value("members", json::array()))
    if (wanted(m) && m.value("name", "") != leader) out.push_back(m.value("name", ""));
  for (const json& m : cluster.value("members", json::array()))
    if (wanted(m) && m.value("name", "") == leader) out.push_back(leader);
  for (const std::string& n : s.nodes)
    if (!is_member(cluster, n)) out.push_back(n);
  auto here = std::find(out.begin(), out.end(), connected);
  if (!connected.empty() && here != out.end()) std::rotate(here, here + 1, out.end());
  return out;
}

}  // namespace pg_ha::ctl
