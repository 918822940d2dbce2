#include "config_patch.hpp"

#include <algorithm>
#include <sstream>

#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

Error invalid(std::string text) { return make_error(ErrorKind::Invalid, std::move(text)); }

// A value as typed on the command line: JSON if it is JSON, otherwise the plain text.
json command_line_value(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

Result<std::vector<std::string>> key_path(const std::string& key, const std::string& assignment) {
  std::vector<std::string> path;
  std::stringstream in(key);
  std::string part;
  while (std::getline(in, part, '.')) path.push_back(part);
  if (path.empty() || key.back() == '.' ||
      std::any_of(path.begin(), path.end(), [](const std::string& p) { return p.empty(); }))
    return invalid("`" + assignment + "`: the key must be a name or a dotted path (postgresql.parameters.work_mem)");
  return path;
}

Status add_assignment(json* patch, const std::string& prefix, const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    return invalid("`" + assignment + "` is not key=value");
  std::string value = assignment.substr(eq + 1);
  if (value.empty()) return invalid("`" + assignment + "` has no value (write null to remove the key)");
  auto path = key_path(prefix + assignment.substr(0, eq), assignment);
  if (!path.ok()) return path.error();
  json* at = patch;
  for (size_t i = 0; i + 1 < path->size(); ++i) {
    json& next = (*at)[(*path)[i]];
    if (!next.is_null() && !next.is_object())
      return invalid("`" + assignment + "` sets a key inside " + (*path)[i] + ", which another assignment gave a value");
    if (next.is_null()) next = json::object();
    at = &next;
  }
  (*at)[path->back()] = command_line_value(value);
  return ok_status();
}

// Longest common subsequence table of two line lists, from the end (lcs[i][j] for a[i:], b[j:]).
std::vector<std::vector<int>> lcs_table(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;)
    for (size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  return lcs;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

Result<json> patch_from_assignments(const std::vector<std::string>& sets, const std::vector<std::string>& pg_parameters) {
  json patch = json::object();
  for (const std::string& s : sets)
    if (Status st = add_assignment(&patch, "", s); !st.ok()) return st.error();
  for (const std::string& p : pg_parameters) {
    if (p.find('.') != std::string::npos && p.find('.') < p.find('='))
      return invalid("`" + p + "`: --pg takes a PostgreSQL parameter name=value (use --set for a dotted path)");
    if (Status st = add_assignment(&patch, "postgresql.parameters.", p); !st.ok()) return st.error();
  }
  return patch;
}

json merge_patch_between(const json& from, const json& to) {
  if (!from.is_object() || !to.is_object()) return from == to ? json::object() : to;
  json patch = json::object();
  for (const auto& [key, old_value] : from.items())
    if (!to.contains(key)) patch[key] = nullptr;
  for (const auto& [key, new_value] : to.items()) {
    auto old = from.find(key);
    if (old == from.end()) {
      patch[key] = new_value;
    } else if (old->is_object() && new_value.is_object()) {
      json inner = merge_patch_between(*old, new_value);
      if (!inner.empty()) patch[key] = inner;
    } else if (*old != new_value) {
      patch[key] = new_value;
    }
  }
  return patch;
}

json apply_merge_patch(const json& from, const json& patch) {
  json out = from;
  out.merge_patch(patch);
  return out;
}

std::string line_diff(const std::string& before, const std::string& after, int context) {
  std::vector<std::string> a = split_lines(before), b = split_lines(after);
  auto lcs = lcs_table(a, b);
  std::vector<std::string> ops;   // each line prefixed with ' ', '-' or '+'
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ops.push_back(" " + a[i++]);
      ++j;
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back("-" + a[i++]);   // removals before additions, as diff -u shows them
    } else {
      ops.push_back("+" + b[j++]);
    }
  }
  // Keep the lines within `context` of a change; mark the gaps.
  std::vector<bool> keep(ops.size(), false);
  for (size_t k = 0; k < ops.size(); ++k) {
    if (ops[k][0] == ' ') continue;
    size_t lo = k >= static_cast<size_t>(context) ? k - context : 0;
    size_t hi = std::min(ops.size() - 1, k + context);
    for (size_t m = lo; m <= hi; ++m) keep[m] = true;
  }
  std::string out;
  bool gap = false;
  for (size_t k = 0; k < ops.size(); ++k) {
    if (!keep[k]) {
      gap = true;
      continue;
    }
    if (gap) out += "@@\n";
    gap = false;
    out += ops[k] + "\n";
  }
  return out;
}

}  // namespace pg_ha::ctl
