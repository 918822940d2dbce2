#include "pg_model.hpp"

#include <algorithm>
#include <cctype>

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

bool Lineage::end_on(uint32_t tl, Lsn* end) const {
  if (tl == timeline) {
    *end = flush;
    return true;
  }
  for (const auto& [t, e] : ancestors) {
    if (t == tl) {
      *end = e;
      return true;
    }
  }
  return false;
}

bool Lineage::contains(uint32_t tl, Lsn lsn) const {
  Lsn end = 0;
  return end_on(tl, &end) && lsn <= end;
}

Lineage Lineage::truncated(Lsn lsn) const {
  Lineage out;
  for (const auto& [t, e] : ancestors) {
    if (lsn <= e) {
      out.timeline = t;
      out.flush = lsn;
      return out;
    }
    out.ancestors.push_back({t, e});
  }
  out.timeline = timeline;
  out.flush = std::min(lsn, flush);
  return out;
}

std::string Lineage::describe() const {
  std::string s;
  for (const auto& [t, e] : ancestors) s += std::to_string(t) + "@" + std::to_string(e) + ">";
  return s + std::to_string(timeline) + ":" + std::to_string(flush);
}

Lsn fork_point(const Lineage& a, const Lineage& b) {
  Lsn fork = 0;
  std::vector<std::pair<uint32_t, Lsn>> seq = a.ancestors;
  seq.push_back({a.timeline, a.flush});
  for (const auto& [t, e] : seq) {
    Lsn other = 0;
    if (!b.end_on(t, &other)) break;
    fork = std::min(e, other);
    if (e != other) break;   // they part within this timeline
  }
  return fork;
}

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

bool starts_with_word(const std::string& s, const char* w) {
  size_t n = std::char_traits<char>::length(w);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != w[i]) return false;
  }
  return s.size() == n || std::isspace(static_cast<unsigned char>(s[n])) || std::isdigit(static_cast<unsigned char>(s[n]));
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = unquote(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

SyncRule parse_ssn(const std::string& text) {
  SyncRule r;
  std::string s = trim(text);
  if (s.empty()) return r;
  r.sync = true;
  r.k = 1;
  if (starts_with_word(s, "ANY")) {
    r.any = true;
    s = trim(s.substr(3));
  } else if (starts_with_word(s, "FIRST")) {
    s = trim(s.substr(5));
  }
  size_t open = s.find('(');
  if (open == std::string::npos) {
    r.names = split_names(s);
    return r;
  }
  r.k = std::max(1, std::atoi(trim(s.substr(0, open)).c_str()));
  size_t close = s.rfind(')');
  r.names = split_names(s.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1));
  return r;
}

namespace {

int rank_in(const SyncRule& rule, const std::string& name) {
  for (size_t i = 0; i < rule.names.size(); ++i) {
    if (rule.names[i] == name || rule.names[i] == "*") return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

bool sync_satisfied(const SyncRule& rule, const std::vector<StandbyFlush>& standbys, Lsn lsn) {
  if (!rule.sync) return true;
  if (rule.any) {
    int have = 0;
    for (const StandbyFlush& s : standbys) have += (rank_in(rule, s.name) >= 0 && s.flush >= lsn) ? 1 : 0;
    return have >= rule.k;
  }
  // FIRST k: the k connected standbys listed earliest are the synchronous ones; all must confirm.
  std::vector<std::pair<int, Lsn>> ranked;
  for (const StandbyFlush& s : standbys) {
    int r = rank_in(rule, s.name);
    if (r >= 0) ranked.push_back({r, s.flush});
  }
  if (static_cast<int>(ranked.size()) < rule.k) return false;
  std::sort(ranked.begin(), ranked.end());
  for (int i = 0; i < rule.k; ++i) {
    if (ranked[static_cast<size_t>(i)].second < lsn) return false;
  }
  return true;
}

}  // namespace pg_ha::sim
