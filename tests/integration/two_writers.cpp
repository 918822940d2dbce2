#include "two_writers.hpp"

#include <algorithm>
#include <map>

namespace pg_ha::test {
namespace {

std::string describe(const WritableSample& s) {
  return "node index " + std::to_string(s.node) + " on timeline " + std::to_string(s.timeline) + " at [" +
         std::to_string(s.before_us) + ", " + std::to_string(s.after_us) + "] us";
}

struct Lineage {
  const WritableSample* first = nullptr;        // the sample that began first
  const WritableSample* latest = nullptr;       // the sample that began last
  const WritableSample* earliest_end = nullptr; // the sample that ended first
};

// Lineages in the order they took over: by timeline, and on one timeline (two promotions that
// chose the same number, docs/protocol.md "Two timelines with one number") by their first answer.
bool took_over_before(const Lineage& a, const Lineage& b) {
  if (a.first->timeline != b.first->timeline) return a.first->timeline < b.first->timeline;
  return a.first->before_us < b.first->before_us;
}

}  // namespace

std::string two_writers(const std::vector<WritableSample>& samples) {
  std::map<std::pair<int64_t, int>, Lineage> by_node;   // (timeline, node)
  for (const WritableSample& s : samples) {
    Lineage& l = by_node[{s.timeline, s.node}];
    if (!l.first || s.before_us < l.first->before_us) l.first = &s;
    if (!l.latest || s.before_us > l.latest->before_us) l.latest = &s;
    if (!l.earliest_end || s.after_us < l.earliest_end->after_us) l.earliest_end = &s;
  }
  std::vector<Lineage> order;
  for (const auto& entry : by_node) order.push_back(entry.second);
  std::sort(order.begin(), order.end(), took_over_before);
  // From the newest lineage down: the earliest end of any answer of a newer lineage.
  const WritableSample* newer_end = nullptr;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (newer_end && it->latest->before_us > newer_end->after_us) {
      const char* what = it->latest->timeline == newer_end->timeline ? "two nodes writable on one timeline, interleaved: "
                                                                       : "an older lineage was writable after a newer one: ";
      return what + describe(*newer_end) + ", then " + describe(*it->latest);
    }
    if (!newer_end || it->earliest_end->after_us < newer_end->after_us) newer_end = it->earliest_end;
  }
  return "";
}

}  // namespace pg_ha::test
