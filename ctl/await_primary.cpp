#include "await_primary.hpp"

#include <thread>

#include <fmt/format.h>

#include "failure.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

std::string string_at(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

bool leads_as_primary(const json& cluster, const std::string& name) {
  auto members = cluster.find("members");
  if (members == cluster.end() || !members->is_array()) return false;
  for (const auto& m : *members)
    if (m.is_object() && string_at(m, "name") == name) return string_at(m, "role") == "primary";
  return false;
}

}  // namespace

std::string await_new_primary(const ClusterProbe& probe, const AwaitPrimary& a) {
  auto deadline = std::chrono::steady_clock::now() + a.wait;
  std::string last_error;
  do {
    try {
      json cluster = probe();
      std::string leader = string_at(cluster, "leader");
      bool moved = !leader.empty() && leader != a.old_leader && (a.target.empty() || leader == a.target);
      if (moved && leads_as_primary(cluster, leader)) return leader;
      last_error.clear();
    } catch (const Failure& f) {
      last_error = f.what();
    }
    std::this_thread::sleep_for(a.poll);
  } while (std::chrono::steady_clock::now() < deadline);
  long long seconds = std::chrono::duration_cast<std::chrono::seconds>(a.wait).count();
  throw Failure(kExitRefused,
                fmt::format("the request was recorded, but {} is not the primary after {} s{} "
                            "(see pg_hactl list and the primary's log)",
                            a.target.empty() ? std::string("no other member") : a.target, seconds,
                            last_error.empty() ? "" : "; last error: " + last_error));
}

}  // namespace pg_ha::ctl
