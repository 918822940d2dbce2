// Virtual time: a queue of callbacks ordered by (real time, insertion order). Ties run in the
// order they were scheduled, so the run is a pure function of the seed.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "clock.hpp"

namespace pg_ha::sim {

class EventQueue {
 public:
  TimeMs now() const { return now_; }
  void at(TimeMs real_ms, std::function<void()> fn) {
    events_.push(Event{real_ms < now_ ? now_ : real_ms, seq_++, std::move(fn)});
  }
  void after(TimeMs delay_ms, std::function<void()> fn) { at(now_ + delay_ms, std::move(fn)); }
  bool empty() const { return events_.empty(); }
  TimeMs next_time() const { return events_.top().at_ms; }
  // Runs the earliest event; returns false when none is left.
  bool run_next() {
    if (events_.empty()) return false;
    Event e = events_.top();
    events_.pop();
    now_ = e.at_ms;
    e.fn();
    return true;
  }
  uint64_t executed() const { return seq_; }

 private:
  struct Event {
    TimeMs at_ms;
    uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.at_ms != b.at_ms ? a.at_ms > b.at_ms : a.seq > b.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  TimeMs now_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace pg_ha::sim
