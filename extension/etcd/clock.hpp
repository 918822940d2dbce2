// Monotonic milliseconds for deadlines. Wall-clock time never decides a timeout here.
#pragma once

#include <chrono>
#include <cstdint>

namespace pg_ha::etcd {

inline int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace pg_ha::etcd
