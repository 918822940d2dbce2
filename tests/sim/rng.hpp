// All randomness of a run comes from one seeded generator, so a seed replays a run byte for byte.
// Our own range/chance helpers (not std::*_distribution, whose output is implementation-defined).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace pg_ha::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t next() { return gen_(); }
  // Uniform in [lo, hi], both inclusive; lo <= hi.
  int64_t range(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(next() % span);
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(range(0, static_cast<int64_t>(v.size()) - 1))]; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace pg_ha::sim
