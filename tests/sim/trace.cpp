#include "trace.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/no_postgres.hpp"

namespace pg_ha::sim {

std::string fmt_line(TimeMs at_ms, int node, const std::string& text) {
  char head[48];
  if (node < 0) {
    std::snprintf(head, sizeof head, "%8.3fs  cluster  ", static_cast<double>(at_ms) / 1000.0);
  } else {
    std::snprintf(head, sizeof head, "%8.3fs  n%-6d  ", static_cast<double>(at_ms) / 1000.0, node);
  }
  return head + text;
}

void Trace::log(TimeMs real_ms, int node, const std::string& text) {
  if (echo_) std::printf("%s\n", fmt_line(real_ms, node, text).c_str());
  auto& q = lines_[node];
  q.push_back(Line{real_ms, seq_++, node, text});
  if (q.size() > keep_) q.pop_front();
}

std::string Trace::dump() const {
  std::vector<const Line*> all;
  for (const auto& [node, q] : lines_) {
    for (const Line& l : q) all.push_back(&l);
  }
  std::sort(all.begin(), all.end(), [](const Line* a, const Line* b) { return a->seq < b->seq; });
  std::string out;
  for (const Line* l : all) out += fmt_line(l->at_ms, l->node, l->text) + "\n";
  return out;
}

}  // namespace pg_ha::sim
