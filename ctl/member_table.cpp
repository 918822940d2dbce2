#include "member_table.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "table.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

std::string text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool flag(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

bool is_leader(const json& cluster, const json& m) {
  return !text(cluster, "leader").empty() && text(m, "name") == text(cluster, "leader");
}

// Tags that differ from the defaults (nofailover false, priority 100, nosync, noloadbalance false).
std::string tag_text(const json& m) {
  auto it = m.find("tags");
  if (it == m.end() || !it->is_object()) return "";
  std::vector<std::string> parts;
  for (const auto& [key, value] : it->items()) {
    bool is_default = (value.is_boolean() && !value.get<bool>()) || (key == "priority" && value == 100);
    if (!is_default) parts.push_back(key + ": " + value.dump());
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::vector<json> ordered_members(const json& cluster) {
  std::vector<json> members;
  if (cluster.contains("members") && cluster["members"].is_array())
    for (const json& m : cluster["members"]) members.push_back(m);
  std::stable_sort(members.begin(), members.end(), [&](const json& a, const json& b) {
    if (is_leader(cluster, a) != is_leader(cluster, b)) return is_leader(cluster, a);
    return text(a, "name") < text(b, "name");
  });
  return members;
}

std::string title(const json& cluster) {
  std::string name = text(cluster, "cluster");
  std::string out = "Cluster: " + (name.empty() ? std::string("?") : name);
  if (!text(cluster, "term").empty()) out += " (term " + text(cluster, "term") + ")";
  return out;
}

}  // namespace

std::string display_role(const json& cluster, const json& m) {
  if (is_leader(cluster, m)) return "primary";
  // A member still recorded as primary that does not hold `leader` is being demoted, or is a
  // crashed or cut-off old primary (fenced either way): "primary" would name two primaries.
  if (text(m, "role") == "primary") return "old primary";
  auto sync = m.find("sync");   // pg_ha.members().sync: recorded under its own identity
  if (sync != m.end() && sync->is_boolean() && sync->get<bool>()) return "sync standby";
  return text(m, "role");
}

std::string lag_mb(const json& m) {
  if (text(m, "role") == "primary") return "";
  auto it = m.find("lag_bytes");
  if (it == m.end() || !it->is_number()) return "unknown";
  return fmt::format("{}", it->get<int64_t>() / (1024 * 1024));
}

std::string render_members(const json& cluster, bool topology) {
  std::vector<json> members = ordered_members(cluster);
  bool any_pending = std::any_of(members.begin(), members.end(), [](const json& m) { return flag(m, "pending_restart"); });
  bool any_tags = std::any_of(members.begin(), members.end(), [](const json& m) { return !tag_text(m).empty(); });
  // Members that are down say why (members().reason, from their sidecar: docs/operations.md).
  bool any_reason = std::any_of(members.begin(), members.end(), [](const json& m) { return !text(m, "reason").empty(); });
  Table t;
  t.header = {"Member", "Host", "Role", "State", "TL", "Lag in MB"};
  t.right_aligned = {false, false, false, false, true, true};
  if (any_pending) t.header.push_back("Pending restart");
  if (any_tags) t.header.push_back("Tags");
  if (any_reason) t.header.push_back("Reason");
  bool have_leader = std::any_of(members.begin(), members.end(), [&](const json& m) { return is_leader(cluster, m); });
  for (const json& m : members) {
    std::string name = text(m, "name");
    if (topology && have_leader && !is_leader(cluster, m)) name = "+ " + name;
    std::string host = text(m, "host");
    if (!text(m, "port").empty() && text(m, "port") != "0") host += ":" + text(m, "port");
    std::vector<std::string> row{name, host, display_role(cluster, m), text(m, "state"), text(m, "timeline"), lag_mb(m)};
    if (any_pending) row.push_back(flag(m, "pending_restart") ? "*" : "");
    if (any_tags) row.push_back(tag_text(m));
    if (any_reason) row.push_back(text(m, "reason").substr(0, 100));
    t.rows.push_back(std::move(row));
  }
  std::string out = render_table(t, title(cluster));
  if (flag(cluster, "paused")) out += " Maintenance mode: on\n";
  return out;
}

}  // namespace pg_ha::ctl
