// Replication slots (docs/operations.md, "Replication slots"): each replica streams through its
// own physical slot on the primary, replicas keep slots for the others ready for a failover, a
// switchover leaves the new primary with active slots for the other two, a permanent slot from
// the config exists on the primary, and `use_slots: false` leaves only wal_keep_size.
#include <cstdlib>
#include <string>

#include "fixture.hpp"

namespace pg_ha::test {
namespace {

class Slots : public Cluster {
 protected:
  // PG_HA_TEST_BIN_DIR (a private PostgreSQL tree) is applied by the harness (cluster.cpp).
  static ClusterOptions options(const std::string& config = config_with()) {
    ClusterOptions o;
    o.config_json = config;
    return o;
  }
  // "name:active" for each physical slot on node i, sorted; "" when the node does not answer.
  std::string slots(int i) const {
    auto r = c_->query(i, "SELECT string_agg(slot_name || ':' || active, ',' ORDER BY slot_name) "
                          "FROM pg_replication_slots WHERE slot_type = 'physical'");
    return r.ok() && !r->empty() && !(*r)[0].empty() ? (*r)[0][0] : "";
  }
  std::string slot_of(int i) const { return "pgha_" + c_->name(i); }
  // What the primary p should show: an active slot for every other node, plus `extra`.
  std::string expected_on_primary(int p, const std::string& extra) const {
    std::vector<std::string> want;
    for (int i = 0; i < c_->size(); ++i)
      if (i != p) want.push_back(slot_of(i) + ":true");
    if (!extra.empty()) want.push_back(extra);
    std::sort(want.begin(), want.end());
    std::string out;
    for (const std::string& w : want) out += (out.empty() ? "" : ",") + w;
    return out;
  }
  bool wait_slots(int i, const std::string& want, int timeout_ms = 30000) {
    return c_->wait_until([&] { return slots(i) == want; }, timeout_ms);
  }
};

TEST_F(Slots, EachReplicaStreamsThroughItsSlotAndANewPrimaryHasSlotsForTheOthers) {
  start(options(config_with(R"("slots":{"archiver":{"type":"physical"}})")));
  ASSERT_TRUE(wait_slots(primary_, expected_on_primary(primary_, "archiver:false")))
      << "slots on the primary: " << slots(primary_) << "\n" << logs();
  for (int i = 0; i < c_->size(); ++i) {
    if (i == primary_) continue;
    EXPECT_EQ(c_->show(i, "primary_slot_name"), slot_of(i));
  }

  // Ready for a failover: the switchover's target already keeps (inactive) slots for the others.
  int target = primary_ == 0 ? 1 : 0;
  int third = 3 - primary_ - target;
  std::string ready = slot_of(std::min(primary_, third)) + ":false," + slot_of(std::max(primary_, third)) + ":false";
  ASSERT_TRUE(wait_slots(target, ready)) << "slots on " << c_->name(target) << ": " << slots(target) << "\n" << logs();
  auto restart_lsn = [&](int node, int of) {
    return value(node, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '" + slot_of(of) + "'");
  };
  std::string before = restart_lsn(target, third);
  control(primary_, "CREATE TABLE IF NOT EXISTS slot_probe AS SELECT g FROM generate_series(1, 20000) g");
  control(primary_, "SELECT pg_switch_wal()");
  EXPECT_TRUE(c_->wait_until([&] {
    auto now = restart_lsn(target, third);
    return !now.empty() && now != before;
  }, 30000)) << "the replica-side slot of " << c_->name(third) << " on " << c_->name(target)
             << " stayed at " << before << "\n" << logs();

  int64_t asked = monotonic_ms();
  control(primary_, "SELECT pg_ha.switchover('" + c_->name(target) + "')");
  auto p = wait_new_primary(primary_);
  ASSERT_TRUE(p && *p == target) << logs();
  ASSERT_TRUE(wait_slots(target, expected_on_primary(target, "archiver:false"), 60000))
      << "slots on the new primary " << c_->name(target) << ": " << slots(target) << "\n" << logs();
  std::printf("[ measured ] new primary's slots all active %lld ms after the switchover request\n",
              static_cast<long long>(monotonic_ms() - asked));
}

TEST_F(Slots, UseSlotsOffDropsTheMemberSlotsAndReplicasStreamWithout) {
  PG_HA_LONG_ONLY();
  start(options());
  ASSERT_TRUE(wait_slots(primary_, expected_on_primary(primary_, ""))) << slots(primary_) << "\n" << logs();
  control(primary_, R"(SELECT pg_ha.set_config('{"use_slots": false}'))");
  ASSERT_TRUE(wait_slots(primary_, "")) << "member slots left with use_slots off: " << slots(primary_) << "\n" << logs();
  for (int i = 0; i < c_->size(); ++i) {
    if (i == primary_) continue;
    EXPECT_TRUE(c_->wait_until([&] { return c_->show(i, "primary_slot_name").empty(); }, 10000)) << c_->name(i);
    EXPECT_EQ(slots(i), "") << "replica " << c_->name(i) << " keeps slots with use_slots off";
  }
  EXPECT_EQ(c_->wait_healthy(2, 30000), primary_) << "replicas do not stream without slots\n" << logs();
}

}  // namespace
}  // namespace pg_ha::test
