// The agent's watch-fed cache must equal a fresh read at the same revision, whatever order the
// read and the watch deliver things in.
#include "agent/view_cache.hpp"

#include <gtest/gtest.h>

namespace pg_ha::agent {
namespace {

kv::KeyValue kv_at(const std::string& key, const std::string& value, int64_t rev) {
  kv::KeyValue k;
  k.key = key;
  k.value = value;
  k.create_revision = rev;
  k.mod_revision = rev;
  k.version = 1;
  return k;
}

WatchChange put(const std::string& key, const std::string& value, int64_t rev) {
  return WatchChange{false, kv_at(key, value, rev)};
}

WatchChange del(const std::string& key, int64_t rev) { return WatchChange{true, kv_at(key, "", rev)}; }

std::map<std::string, std::string> contents(const ViewCache& c) {
  std::map<std::string, std::string> out;
  for (const kv::KeyValue& k : c.kvs()) out[k.key] = k.value;
  return out;
}

TEST(ViewCache, EventsUpdateAndDeleteKeys) {
  ViewCache c;
  c.reset(10, {kv_at("/a", "1", 5), kv_at("/b", "2", 10)});
  c.apply({put("/a", "3", 11), del("/b", 12), put("/c", "4", 12)}, 12);
  EXPECT_EQ(c.revision(), 12);
  EXPECT_EQ(contents(c), (std::map<std::string, std::string>{{"/a", "3"}, {"/c", "4"}}));
}

TEST(ViewCache, EventsTheReadAlreadyHoldsAreSkipped) {
  // The watch started before the read: it replays changes the read already contains.
  ViewCache c;
  c.reset(20, {kv_at("/a", "new", 20)});
  c.apply({put("/a", "old", 15), del("/a", 18), put("/b", "gone", 19)}, 19);
  EXPECT_EQ(c.revision(), 20);
  EXPECT_EQ(contents(c), (std::map<std::string, std::string>{{"/a", "new"}}));
}

TEST(ViewCache, ProgressWithoutEventsAdvancesTheRevision) {
  ViewCache c;
  c.reset(7, {});
  c.apply({}, 9);
  EXPECT_EQ(c.revision(), 9);
  c.apply({}, 8);
  EXPECT_EQ(c.revision(), 9);
}

TEST(ViewCache, InvalidCacheIgnoresEventsUntilARead) {
  ViewCache c;
  c.apply({put("/a", "1", 3)}, 3);
  EXPECT_FALSE(c.valid());
  EXPECT_TRUE(c.kvs().empty());
  c.reset(4, {kv_at("/b", "2", 4)});
  EXPECT_TRUE(c.valid());
  EXPECT_EQ(contents(c), (std::map<std::string, std::string>{{"/b", "2"}}));
}

TEST(ViewCache, KeepsModRevisionAndLeaseOfTheEvent) {
  ViewCache c;
  c.reset(1, {});
  WatchChange w = put("/m", "x", 2);
  w.kv.lease = 42;
  w.kv.version = 3;
  c.apply({w}, 2);
  ASSERT_EQ(c.kvs().size(), 1u);
  EXPECT_EQ(c.kvs()[0].lease, 42);
  EXPECT_EQ(c.kvs()[0].version, 3);
  EXPECT_EQ(c.kvs()[0].mod_revision, 2);
}

}  // namespace
}  // namespace pg_ha::agent
