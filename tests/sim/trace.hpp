// The readable trace of a run: the last lines per node (and of the cluster as a whole), printed
// merged in time order when a run fails; with --trace every line is echoed as it happens.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "clock.hpp"

namespace pg_ha::sim {

class Trace {
 public:
  explicit Trace(bool echo, size_t keep_per_source = 60) : echo_(echo), keep_(keep_per_source) {}
  // node -1 = the cluster (faults, etcd, client, operator).
  void log(TimeMs real_ms, int node, const std::string& text);
  std::string dump() const;   // kept lines of every source, merged by time
  bool echo() const { return echo_; }

 private:
  struct Line {
    TimeMs at_ms;
    uint64_t seq;
    int node;
    std::string text;
  };
  bool echo_;
  size_t keep_;
  uint64_t seq_ = 0;
  std::map<int, std::deque<Line>> lines_;
};

std::string fmt_line(TimeMs at_ms, int node, const std::string& text);

}  // namespace pg_ha::sim
