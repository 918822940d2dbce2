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
  int64_t at_ms = 0;       // monotonic: when the acknowledgement arrived
  int64_t sent_ms = 0;     // when the INSERT was sent
  int64_t conn_ms = 0;     // when the session that ran it was established
  int port = 0;            // the server that acknowledged it
};

// A commit (or a connection attempt) that failed, with the server's or libpq's message.
struct Failure {
  int64_t at_ms = 0;
  int64_t sent_ms = 0;
  int port = 0;            // 0: no connection could be made
  bool connect = false;    // the connection attempt failed (not a statement)
  std::string message;
};

class Writer {
 public:
  // Creates the table through `setup_conninfo` (the primary), then writes through `conninfo`.
  Writer(std::string conninfo, const std::string& setup_conninfo);
  ~Writer();
  void stop();
  std::vector<Ack> acks() const;
  int64_t errors() const { return errors_; }
  std::vector<Failure> failures() const;   // the first 20000, oldest first
  // Time the INSERT now waiting for its answer was sent, or -1 when none is in flight.
  int64_t in_flight_since() const { return in_flight_since_; }
  // Largest gap between consecutive acknowledgements after `from_ms` (the write outage).
  int64_t largest_gap_ms(int64_t from_ms) const;
  // Ids acknowledged before the read began that are absent from the table on `conninfo` (read
  // after recovery; the writer may still be running).
  std::vector<int64_t> missing_on(const std::string& conninfo) const;

 private:
  void run();
  std::string conninfo_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> errors_{0};
  std::atomic<int64_t> in_flight_since_{-1};
  mutable std::mutex mu_;
  std::vector<Ack> acks_;
  std::vector<Failure> failures_;
  void fail(Failure f);
  std::thread thread_;
};

int64_t monotonic_ms();

}  // namespace pg_ha::test
