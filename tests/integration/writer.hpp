// The "balance" workload made exact: a client that writes one row per transaction through libpq
// multi-host (target_session_attrs=read-write, connect_timeout 1 s), as an application would,
// and records every acknowledged commit. After the fault the checker reads the new primary and
// reports acknowledged rows that are missing.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace pg_ha::test {

struct Ack {
  int64_t id = 0;
  int64_t at_ms = 0;   // monotonic
  int port = 0;        // the server that acknowledged it
};

class Writer {
 public:
  // Creates the table through `setup_conninfo` (the primary), then writes through `conninfo`.
  Writer(std::string conninfo, const std::string& setup_conninfo);
  ~Writer();
  void stop();
  std::vector<Ack> acks() const;
  int64_t errors() const { return errors_; }
  // Largest gap between consecutive acknowledgements after `from_ms` (the write outage).
  int64_t largest_gap_ms(int64_t from_ms) const;
  // Acknowledged ids absent from the table on `conninfo` (read after recovery).
  std::vector<int64_t> missing_on(const std::string& conninfo) const;

 private:
  void run();
  std::string conninfo_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> errors_{0};
  mutable std::mutex mu_;
  std::vector<Ack> acks_;
  std::thread thread_;
};

int64_t monotonic_ms();

}  // namespace pg_ha::test
