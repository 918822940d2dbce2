// One-shot timers on the monotonic clock, for retry back-off and deadlines inside the client.
// Internal: callers of the client only see Client::timeout_ms().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace pg_ha::etcd {

class Timers {
 public:
  using Id = uint64_t;

  Id add(int64_t deadline_ms, std::function<void()> fn) {
    Id id = next_id_++;
    by_deadline_.emplace(std::make_pair(deadline_ms, id), std::move(fn));
    return id;
  }

  void cancel(Id id) {
    for (auto it = by_deadline_.begin(); it != by_deadline_.end(); ++it) {
      if (it->first.second == id) {
        by_deadline_.erase(it);
        return;
      }
    }
  }

  int64_t next_deadline_ms() const { return by_deadline_.empty() ? -1 : by_deadline_.begin()->first.first; }

  // Runs every timer due at now_ms, one at a time, so a callback may add or cancel timers.
  void run_due(int64_t now_ms) {
    while (!by_deadline_.empty() && by_deadline_.begin()->first.first <= now_ms) {
      auto fn = std::move(by_deadline_.begin()->second);
      by_deadline_.erase(by_deadline_.begin());
      fn();
    }
  }

 private:
  Id next_id_ = 1;
  std::map<std::pair<int64_t, Id>, std::function<void()>> by_deadline_;
};

}  // namespace pg_ha::etcd
