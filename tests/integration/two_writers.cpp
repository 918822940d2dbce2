#include "two_writers.hpp"

#include <map>

namespace pg_ha::test {
namespace {

std::string describe(const WritableSample& s) {
  return "node index " + std::to_string(s.node) + " on timeline " + std::to_string(s.timeline) + " at [" +
         std::to_string(s.before_us) + ", " + std::to_string(s.after_us) + "] us";
}

struct Lineage {
  const WritableSample* first_node = nullptr;   // the first sample seen on this timeline
  const WritableSample* latest = nullptr;       // the sample that began last
  const WritableSample* earliest_end = nullptr; // the sample that ended first
};

}  // namespace

std::string two_writers(const std::vector<WritableSample>& samples) {
  std::map<int64_t, Lineage> by_timeline;
  for (const WritableSample& s : samples) {
    Lineage& l = by_timeline[s.timeline];
    if (!l.first_node) l.first_node = &s;
    if (s.node != l.first_node->node)
      return "two nodes writable on one timeline: " + describe(*l.first_node) + " and " + describe(s);
    if (!l.latest || s.before_us > l.latest->before_us) l.latest = &s;
    if (!l.earliest_end || s.after_us < l.earliest_end->after_us) l.earliest_end = &s;
  }
  // From the newest timeline down: the earliest end of any answer on a newer timeline.
  const WritableSample* newer_end = nullptr;
  for (auto it = by_timeline.rbegin(); it != by_timeline.rend(); ++it) {
    const Lineage& l = it->second;
    if (newer_end && l.latest->before_us > newer_end->after_us)
      return "an older lineage was writable after a newer one: " + describe(*newer_end) + ", then " +
             describe(*l.latest);
    if (!newer_end || l.earliest_end->after_us < newer_end->after_us) newer_end = l.earliest_end;
  }
  return "";
}

}  // namespace pg_ha::test
