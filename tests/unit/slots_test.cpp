// Replication slots: the member slot name mapping, the config keys `slots`, `use_slots` and
// `member_slots_ttl`, and the plan of which slots a primary or a replica keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "core/config.hpp"
#include "core/slots.hpp"

namespace pg_ha::core {
namespace {

bool valid_slot_chars(const std::string& s) {
  return !s.empty() && s.size() <= 63 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

TEST(SlotName, LowercaseNamesKeepTheirLetters) {
  EXPECT_EQ(member_slot_name("node1"), "pgha_node1");
  EXPECT_EQ(member_slot_name("db_2"), "pgha_db__2");
  EXPECT_EQ(member_slot_name("Node-1.a"), "pgha__node_01_1a");
}

TEST(SlotName, NamesThatAnEasyLowercasingWouldMergeStayApart) {
  // Lowercasing and replacing other bytes by '_' would give "pgha_node_1" for all of these.
  std::vector<std::string> names = {"node_1", "node-1", "node.1", "Node_1", "NODE-1", "node__1", "node_-1", "node-_1"};
  std::set<std::string> slots;
  for (const std::string& n : names) {
    std::string s = member_slot_name(n);
    EXPECT_TRUE(valid_slot_chars(s)) << n << " -> " << s;
    EXPECT_EQ(s, member_slot_name(n)) << "deterministic";
    slots.insert(s);
  }
  EXPECT_EQ(slots.size(), names.size());
}

TEST(SlotName, EveryShortNameOverTheNodeAlphabetMapsToItsOwnValidSlot) {
  const std::string alphabet = "aZ9_-.";
  std::set<std::string> slots;
  size_t count = 0;
  // All names of 1 to 4 bytes over a sample of each byte class: 6 + 36 + 216 + 1296.
  std::vector<std::string> names = {""};
  for (int len = 1; len <= 4; ++len) {
    std::vector<std::string> next;
    for (const std::string& n : names)
      for (char c : alphabet) next.push_back(n + c);
    for (const std::string& n : next) {
      std::string s = member_slot_name(n);
      ASSERT_TRUE(valid_slot_chars(s)) << n << " -> " << s;
      slots.insert(s);
      ++count;
    }
    names = next;
  }
  EXPECT_EQ(slots.size(), count);
}

TEST(SlotName, LongNamesAreCutWithAHashAndStillDiffer) {
  std::string upper(63, 'A');   // 126 bytes of code: must be cut
  std::string s = member_slot_name(upper);
  EXPECT_TRUE(valid_slot_chars(s)) << s;
  EXPECT_EQ(s.size(), 63u);
  EXPECT_NE(s.find("_2"), std::string::npos);
  std::string other = upper;
  other.back() = 'B';           // same cut prefix, another hash
  EXPECT_NE(member_slot_name(other), s);
  std::string lower(58, 'a');   // exactly fits: no hash
  EXPECT_EQ(member_slot_name(lower), "pgha_" + lower);
  std::string longer(59, 'a');
  EXPECT_EQ(member_slot_name(longer).size(), 63u);
  EXPECT_NE(member_slot_name(longer), member_slot_name(lower));
}

TEST(SlotConfig, DefaultsUseSlots) {
  auto c = parse_cluster_config(R"({"version":1})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->use_slots);
  EXPECT_EQ(c->member_slots_ttl_s, 1800);
  EXPECT_TRUE(c->permanent_slots.empty());
}

TEST(SlotConfig, PermanentSlotsAndUseSlotsRoundTrip) {
  auto c = parse_cluster_config(
      R"({"version":1,"use_slots":false,"member_slots_ttl":60,"slots":{"archiver":{"type":"physical"},"backup_2":{}}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->use_slots);
  EXPECT_EQ(c->member_slots_ttl_s, 60);
  ASSERT_EQ(c->permanent_slots.size(), 2u);
  EXPECT_EQ(c->permanent_slots.at("archiver"), "physical");
  EXPECT_EQ(c->permanent_slots.at("backup_2"), "physical");
  auto again = parse_cluster_config(encode_cluster_config(*c));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(encode_cluster_config(*again), encode_cluster_config(*c));
}

void expect_refused(const std::string& json, const std::string& words) {
  auto c = parse_cluster_config(json);
  ASSERT_FALSE(c.ok()) << json;
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
}

TEST(SlotConfig, BadSlotsAreRefusedWithAClearError) {
  expect_refused(R"({"slots":{"Archiver":{"type":"physical"}}})", "only lowercase letters, digits and '_'");
  expect_refused(R"({"slots":{"arch-1":{"type":"physical"}}})", "only lowercase letters, digits and '_'");
  expect_refused(R"({"slots":{"":{"type":"physical"}}})", "1 to 63 bytes");
  expect_refused(R"({"slots":{")" + std::string(64, 'a') + R"(":{"type":"physical"}}})", "1 to 63 bytes");
  expect_refused(R"({"slots":{"pgha_node1":{"type":"physical"}}})", "keeps for the members");
  expect_refused(R"({"slots":{"dec":{"type":"logical"}}})", "only \"physical\" slots are supported");
  expect_refused(R"({"slots":{"dec":{"type":"physical","database":"x"}}})", "unknown key \"slots.dec.database\"");
  expect_refused(R"({"slots":{"dec":"physical"}})", "must be an object");
  expect_refused(R"({"slots":["dec"]})", "\"slots\" must be an object");
  expect_refused(R"({"use_slots":"no"})", "use_slots");
  expect_refused(R"({"member_slots_ttl":-1})", "member_slots_ttl");
}

// --- the plan ---

std::map<std::string, Versioned<MemberRecord>> members_of(const std::vector<std::string>& names, Lsn flush = 0x5000) {
  std::map<std::string, Versioned<MemberRecord>> out;
  for (const std::string& n : names) {
    Versioned<MemberRecord> r;
    r.value.name = n;
    r.value.timeline = 1;
    r.value.flush_lsn = flush;
    out[n] = r;
  }
  return out;
}

struct PlanCase {
  ClusterConfig config;
  std::map<std::string, Versioned<MemberRecord>> members;
  SlotPlanInput in(SlotRole role, std::vector<ExistingSlot> existing, TimeMs now = 1000) {
    SlotPlanInput i;
    i.role = role;
    i.self = "n1";
    i.config = &config;
    i.members = &members;
    i.existing = std::move(existing);
    i.now_ms = now;
    i.replay_lsn = 0x4000;
    i.timeline = 1;
    return i;
  }
};

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST(SlotPlan, PrimaryMakesOneSlotPerOtherMemberAndThePermanentOnes) {
  PlanCase p;
  p.members = members_of({"n1", "n2", "N-3"});
  p.config.permanent_slots["archiver"] = "physical";
  SlotPlan plan = plan_slots(p.in(SlotRole::Primary, {{"pgha_n2", true, true, 0x100}}), {});
  EXPECT_EQ(as_set(plan.create), (std::set<std::string>{"pgha__n_03", "archiver"}));
  EXPECT_TRUE(plan.drop.empty());
  EXPECT_TRUE(plan.advance.empty());
}

TEST(SlotPlan, NoRoleNoAction) {
  PlanCase p;
  p.members = members_of({"n1", "n2"});
  SlotPlan plan = plan_slots(p.in(SlotRole::None, {{"pgha_gone", true, false, 0x100}}), {});
  EXPECT_TRUE(plan.create.empty() && plan.drop.empty() && plan.advance.empty());
}

TEST(SlotPlan, AGoneMembersSlotIsDroppedOnlyAfterTheTtl) {
  PlanCase p;
  p.config.member_slots_ttl_s = 60;
  p.members = members_of({"n1", "n2", "n3"});
  SlotPlan seen = plan_slots(p.in(SlotRole::Primary, {{"pgha_n2", true, true, 1}, {"pgha_n3", true, true, 1}}, 1000), {});
  p.members = members_of({"n1", "n2"});   // n3's record is gone (lease expired)
  SlotPlan kept = plan_slots(p.in(SlotRole::Primary, {{"pgha_n2", true, true, 1}, {"pgha_n3", true, false, 1}}, 60999), seen.memory);
  EXPECT_TRUE(kept.drop.empty());
  SlotPlan gone = plan_slots(p.in(SlotRole::Primary, {{"pgha_n2", true, true, 1}, {"pgha_n3", true, false, 1}}, 61000), kept.memory);
  EXPECT_EQ(gone.drop, std::vector<std::string>{"pgha_n3"});
  EXPECT_FALSE(gone.memory.count("pgha_n3"));
}

TEST(SlotPlan, ASlotOfAnUnknownMemberGetsTheTtlFromWhenItWasFirstSeen) {
  PlanCase p;
  p.config.member_slots_ttl_s = 60;
  p.members = members_of({"n1"});
  // A restarted worker finds the slot of a member it never saw, and a user slot it never touches.
  std::vector<ExistingSlot> existing = {{"pgha_old", true, false, 1}, {"backup", true, false, 1}};
  SlotPlan first = plan_slots(p.in(SlotRole::Primary, existing, 5000), {});
  EXPECT_TRUE(first.drop.empty());
  SlotPlan later = plan_slots(p.in(SlotRole::Primary, existing, 65000), first.memory);
  EXPECT_EQ(later.drop, std::vector<std::string>{"pgha_old"});
}

TEST(SlotPlan, AnActiveSlotIsNotDroppedButRemembered) {
  PlanCase p;
  p.config.member_slots_ttl_s = 0;
  p.members = members_of({"n1"});
  SlotPlan plan = plan_slots(p.in(SlotRole::Primary, {{"pgha_n2", true, true, 1}}), {});
  EXPECT_TRUE(plan.drop.empty());
  EXPECT_TRUE(plan.memory.count("pgha_n2"));
}

TEST(SlotPlan, OwnSlotAndInvalidatedSlotsAreDropped) {
  PlanCase p;
  p.members = members_of({"n1", "n2"});
  SlotPlan plan = plan_slots(p.in(SlotRole::Primary, {{"pgha_n1", true, false, 0x10}, {"pgha_n2", true, false, 0}}), {});
  EXPECT_EQ(as_set(plan.drop), (std::set<std::string>{"pgha_n1", "pgha_n2"}));
  EXPECT_EQ(plan.create, std::vector<std::string>{"pgha_n2"});
}

TEST(SlotPlan, UseSlotsOffDropsMemberSlotsOnlyAndCreatesNothing) {
  PlanCase p;
  p.config.use_slots = false;
  p.config.permanent_slots["archiver"] = "physical";
  p.members = members_of({"n1", "n2", "n3"});
  SlotPlan plan = plan_slots(
      p.in(SlotRole::Primary, {{"pgha_n2", true, false, 1}, {"pgha_n3", true, true, 1}, {"archiver", true, false, 1}}), {});
  EXPECT_EQ(plan.drop, std::vector<std::string>{"pgha_n2"});
  EXPECT_TRUE(plan.create.empty());
}

TEST(SlotPlan, ReplicaKeepsSlotsForTheOthersAndAdvancesThemNoFurtherThanItsReplay) {
  PlanCase p;
  p.config.permanent_slots["archiver"] = "physical";   // the primary's only
  p.members = members_of({"n1", "n2", "n3"}, 0x3000);
  p.members["n2"].value.flush_lsn = 0x9000;            // the primary, ahead of our replay (0x4000)
  p.members["n3"].value.timeline = 2;                  // another timeline: left alone
  SlotPlan plan = plan_slots(p.in(SlotRole::Replica, {{"pgha_n2", true, false, 0x1000}, {"pgha_n3", true, false, 0x1000}}), {});
  EXPECT_TRUE(plan.create.empty());
  ASSERT_EQ(plan.advance.size(), 1u);
  EXPECT_EQ(plan.advance[0].name, "pgha_n2");
  EXPECT_EQ(plan.advance[0].to, 0x4000u);
  p.members["n3"].value.timeline = 1;
  plan = plan_slots(p.in(SlotRole::Replica, {{"pgha_n2", true, false, 0x4000}, {"pgha_n3", true, false, 0x1000}}), {});
  ASSERT_EQ(plan.advance.size(), 1u);
  EXPECT_EQ(plan.advance[0].name, "pgha_n3");
  EXPECT_EQ(plan.advance[0].to, 0x3000u);
}

}  // namespace
}  // namespace pg_ha::core
