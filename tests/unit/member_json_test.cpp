// The member record's hand-written JSON (core/member_json.cpp) against what nlohmann::json makes
// of the same object: byte for byte, for random records with hostile strings (quotes, control
// characters, bytes that are not UTF-8), extreme numbers and every role.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "core/json_fields.hpp"
#include "core/schema.hpp"

namespace pg_ha::core {
namespace {

using json_fields::json;

// The encoding as it was written before member_json: the reference.
std::string by_nlohmann(const MemberRecord& r) {
  json tags = {{"nofailover", r.tags.nofailover}, {"priority", r.tags.priority}, {"nosync", r.tags.nosync},
               {"noloadbalance", r.tags.noloadbalance}};
  return json_fields::dump(json{{"version", kSchemaVersion}, {"name", r.name}, {"role", role_name(r.role)}, {"state", r.state},
              {"postgres_running", r.postgres_running}, {"timeline", r.timeline},
              {"flush_lsn", lsn_to_string(r.flush_lsn)}, {"replay_lsn", lsn_to_string(r.replay_lsn)},
              {"upstream", r.upstream}, {"host", r.host}, {"port", r.port}, {"api_url", r.api_url},
              {"lease_id", std::to_string(r.lease_id)}, {"tags", tags},
              {"pending_restart", r.pending_restart}, {"error", r.error}, {"member_id", r.member_id},
              {"system_identifier", r.system_identifier}});
}

std::string random_text(std::mt19937_64& rng) {
  static const std::string pieces[] = {"", "n1", "10.0.0.7", "http://h:8008", "\"", "\\", "\n", "\t", "\x01",
                                       "\x7f", "\xc3\xa9", "\xff", "\xe2\x82", "caf\xc3\xa9", " ", "{}", "/"};
  std::string s;
  int n = static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) s += pieces[rng() % (sizeof pieces / sizeof pieces[0])];
  return s;
}

template <class T>
T random_number(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return 0;
    case 1: return std::numeric_limits<T>::max();
    case 2: return std::numeric_limits<T>::min();
    default: return static_cast<T>(rng());
  }
}

MemberRecord random_member(std::mt19937_64& rng) {
  static const Role roles[] = {Role::Unknown, Role::Primary, Role::Replica};
  MemberRecord r;
  r.name = random_text(rng);
  r.role = roles[rng() % 3];
  r.state = random_text(rng);
  r.postgres_running = rng() % 2;
  r.timeline = random_number<uint32_t>(rng);
  r.flush_lsn = random_number<Lsn>(rng);
  r.replay_lsn = random_number<Lsn>(rng);
  r.upstream = random_text(rng);
  r.host = random_text(rng);
  r.port = random_number<int>(rng);
  r.api_url = random_text(rng);
  r.lease_id = random_number<int64_t>(rng);
  r.tags.nofailover = rng() % 2;
  r.tags.priority = random_number<int>(rng);
  r.tags.nosync = rng() % 2;
  r.tags.noloadbalance = rng() % 2;
  r.pending_restart = rng() % 2;
  r.error = random_text(rng);
  r.member_id = random_text(rng);
  r.system_identifier = random_text(rng);
  return r;
}

TEST(MemberJson, IsByteForByteWhatNlohmannWrites) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 20000; ++i) {
    MemberRecord r = random_member(rng);
    ASSERT_EQ(encode(r), by_nlohmann(r)) << "record " << i;
  }
}

TEST(MemberJson, DefaultRecordToo) {
  EXPECT_EQ(encode(MemberRecord{}), by_nlohmann(MemberRecord{}));
}

}  // namespace
}  // namespace pg_ha::core
