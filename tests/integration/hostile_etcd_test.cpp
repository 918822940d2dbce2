// Issue 13 item 5, end to end: records in etcd that no pg_ha node wrote (bytes that are not
// UTF-8, a member whose host would inject a postgresql.conf line, JSON of the wrong shape) are
// problems in status, never a crash. Every worker keeps its pid, the primary keeps serving.
#include <map>
#include <thread>
#include <string>

#include "etcd/client.hpp"
#include "fixture.hpp"
#include "harness/http.hpp"

namespace pg_ha::test {
namespace {

void put_raw(PgHaCluster& c, const std::string& key, const std::string& value) {
  etcd::Options o;
  o.endpoints = c.etcd().endpoints();
  auto client = etcd::Client::create(o);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto r = (*client)->put(key, value);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

std::map<int, pid_t> worker_pids(const PgHaCluster& c) {
  std::map<int, pid_t> out;
  for (int i = 0; i < c.size(); ++i) {
    auto pids = c.postmaster_children(i, "pg_ha worker");
    if (pids.size() == 1) out[i] = pids[0];
  }
  return out;
}

TEST_F(Cluster, HostileMemberRecordsLeaveEveryWorkerRunning) {
  start();
  std::map<int, pid_t> before = worker_pids(*c_);
  ASSERT_EQ(before.size(), static_cast<size_t>(c_->size())) << logs();

  put_raw(*c_, "/pg_ha/it/members/\xff\xfe", "{\"name\":\"\xff\",\"role\":\"replica\"}");
  put_raw(*c_, "/pg_ha/it/members/evil",
          R"({"version":1,"name":"evil","role":"replica","state":"streaming","host":"h' \ninclude '/tmp/x","port":5432})");
  put_raw(*c_, "/pg_ha/it/members/shape", R"({"name":["not","a","string"],"port":"many"})");
  put_raw(*c_, "/pg_ha/it/history/\xff", "\xff\xff not json");

  // Several loops of every worker (loop 500 ms) and snapshot publications.
  std::this_thread::sleep_for(std::chrono::milliseconds(5000));
  EXPECT_EQ(worker_pids(*c_), before) << "a worker restarted after reading the records\n" << logs();
  EXPECT_EQ(c_->writable_primary(), primary_) << logs();
  ASSERT_TRUE(c_->query(primary_, "CREATE TABLE IF NOT EXISTS hostile_ok (id int); INSERT INTO hostile_ok VALUES (1)").ok())
      << logs();
  for (int i = 0; i < c_->size(); ++i) {
    std::string members = value(i, "SELECT string_agg(name, ',' ORDER BY name) FROM pg_ha.members()");
    EXPECT_EQ(members.find("evil"), std::string::npos) << c_->name(i) << " lists a member with a hostile host: " << members;
    EXPECT_NE(members.find(c_->name(primary_)), std::string::npos) << c_->name(i) << ": " << members;
  }
  HttpResult primary = http_request("http://127.0.0.1:" + std::to_string(c_->http_port(primary_)) + "/primary", "");
  EXPECT_EQ(primary.status, 200) << primary.body;
  for (int i = 0; i < c_->size(); ++i) {
    std::string conninfo = c_->show(i, "primary_conninfo");
    EXPECT_EQ(conninfo.find("/tmp/x"), std::string::npos) << c_->name(i) << ": " << conninfo;
  }
}

}  // namespace
}  // namespace pg_ha::test
