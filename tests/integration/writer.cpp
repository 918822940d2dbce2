#include "writer.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <stdexcept>

#include "pq.hpp"

namespace pg_ha::test {

int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Writer::Writer(std::string conninfo, const std::string& setup_conninfo) : conninfo_(std::move(conninfo)) {
  auto r = pq_query(setup_conninfo, "CREATE TABLE IF NOT EXISTS it_writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now()); GRANT ALL ON it_writes TO app");
  if (!r.ok()) throw std::runtime_error("writer setup: " + r.error().message);
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() { stop(); }

void Writer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Writer::fail(Failure f) {
  ++errors_;
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.size() < 20000) failures_.push_back(std::move(f));
}

void Writer::run() {
  int64_t next_id = 1;
  PGconn* conn = nullptr;
  int64_t conn_ms = 0;
  while (!stop_) {
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
      if (conn) PQfinish(conn);
      int64_t t0 = monotonic_ms();
      conn = PQconnectdb(conninfo_.c_str());
      if (PQstatus(conn) != CONNECTION_OK) {
        fail(Failure{monotonic_ms(), t0, 0, true, PQerrorMessage(conn)});
        // Each try may cost a live replica a backend fork (read-write is checked after login):
        // 50 ms keeps an outage's retries from taking a core on a 2-core machine.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      conn_ms = monotonic_ms();
    }
    std::string sql = "INSERT INTO it_writes (id) VALUES (" + std::to_string(next_id) + ")";
    int64_t sent = monotonic_ms();
    in_flight_since_ = sent;
    PGresult* res = PQexec(conn, sql.c_str());
    in_flight_since_ = -1;
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    int port = std::atoi(PQport(conn));
    if (ok) {
      std::lock_guard<std::mutex> lock(mu_);
      acks_.push_back(Ack{next_id, monotonic_ms(), sent, conn_ms, port});
    } else {
      std::string why = res ? PQresultErrorMessage(res) : "";
      if (why.empty()) why = PQerrorMessage(conn);
      fail(Failure{monotonic_ms(), sent, port, false, why});
      PQfinish(conn);  // a refused commit means this server is not (or no longer) the primary
      conn = nullptr;
    }
    PQclear(res);
    ++next_id;  // an id is never retried: a failed commit's outcome is not known
    // ~60 commits a second: enough to date an outage to a few tens of ms; at 200 a second (5 ms)
    // two writer tests side by side kept a synchronous-replication workload on both cores.
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  if (conn) PQfinish(conn);
}

std::vector<Failure> Writer::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::vector<Ack> Writer::acks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acks_;
}

int64_t Writer::largest_gap_ms(int64_t from_ms) const {
  auto all = acks();
  int64_t gap = 0, prev = -1;
  for (const Ack& a : all) {
    if (prev >= 0 && a.at_ms >= from_ms) gap = std::max(gap, a.at_ms - prev);
    prev = a.at_ms;
  }
  return gap;
}

std::vector<int64_t> Writer::missing_on(const std::string& conninfo) const {
  // Only commits acknowledged before the read began must be in it (the writer may still run).
  std::vector<Ack> acked = acks();
  auto rows = pq_query(conninfo, "SELECT id FROM it_writes");
  if (!rows.ok()) throw std::runtime_error("checker: " + rows.error().message);
  std::set<int64_t> present;
  for (const auto& r : *rows) present.insert(std::stoll(r[0]));
  std::vector<int64_t> missing;
  for (const Ack& a : acked) if (!present.count(a.id)) missing.push_back(a.id);
  return missing;
}

}  // namespace pg_ha::test
