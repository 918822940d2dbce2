#include "old_data_dirs.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <tuple>

namespace pg_ha::sidecar {
namespace fs = std::filesystem;

namespace {

// "20261205T142800Z" or "20261205T142800Z-3": the stamp and the repeat number (0 for none).
bool parse_suffix(const std::string& suffix, std::string* stamp, long* repeat) {
  size_t z = suffix.find('Z');
  if (z != 15 || suffix.size() < 16) return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 ? !(suffix[i] >= '0' && suffix[i] <= '9') : suffix[i] != 'T') return false;
  *stamp = suffix.substr(0, 16);
  *repeat = 0;
  if (suffix.size() == 16) return true;
  if (suffix[16] != '-' || suffix.size() == 17 || suffix.size() > 26) return false;
  for (size_t i = 17; i < suffix.size(); ++i)
    if (suffix[i] < '0' || suffix[i] > '9') return false;
  *repeat = std::strtol(suffix.c_str() + 17, nullptr, 10);
  return true;
}

}  // namespace

std::vector<std::string> old_data_dirs_to_remove(const std::string& data_dir_name, const std::vector<std::string>& names,
                                                 int keep) {
  std::string prefix = data_dir_name + ".old-";
  std::vector<std::tuple<std::string, long, std::string>> old;
  for (const auto& n : names) {
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    std::string stamp;
    long repeat = 0;
    if (parse_suffix(n.substr(prefix.size()), &stamp, &repeat)) old.emplace_back(stamp, repeat, n);
  }
  std::sort(old.begin(), old.end());
  std::vector<std::string> out;
  size_t kept = static_cast<size_t>(std::max(keep, 0));
  for (size_t i = 0; i + kept < old.size(); ++i) out.push_back(std::get<2>(old[i]));
  return out;
}

Result<std::vector<std::string>> prune_old_data_dirs(const std::string& data_dir, int keep) {
  fs::path dir(data_dir);
  while (!dir.empty() && dir.filename().empty()) dir = dir.parent_path();   // a trailing slash
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.parent_path(), ec)) names.push_back(e.path().filename().string());
  if (ec) return make_error(ErrorKind::Internal, "cannot list " + dir.parent_path().string() + ": " + ec.message());
  std::vector<std::string> removed;
  for (const auto& n : old_data_dirs_to_remove(dir.filename().string(), names, keep)) {
    fs::path p = dir.parent_path() / n;
    fs::remove_all(p, ec);
    if (ec) return make_error(ErrorKind::Internal, "cannot remove " + p.string() + ": " + ec.message());
    removed.push_back(p.string());
  }
  return removed;
}

}  // namespace pg_ha::sidecar
