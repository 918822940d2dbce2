// The canary flags (core/canaries.hpp) are off in every build unless the simulator switches one
// on, and an unknown name switches nothing on.
#include <gtest/gtest.h>

#include "core/canaries.hpp"

namespace pg_ha::core {
namespace {

bool any_on(const Canaries& c) {
  return c.no_fence_margin || c.no_term_compare || c.ignore_sync_set || c.ssn_before_record || c.no_lag_check ||
         c.worst_candidate || c.config_ttl || c.foreign_identity || c.stray_state;
}

TEST(Canaries, AllOffByDefault) { EXPECT_FALSE(any_on(canaries())); }

TEST(Canaries, UnknownNameSwitchesNothingOn) {
  EXPECT_FALSE(enable_canary("NO_FENCE_MARGIN"));   // names are the lower-case field names
  EXPECT_FALSE(enable_canary(""));
  EXPECT_FALSE(any_on(canaries()));
}

}  // namespace
}  // namespace pg_ha::core
