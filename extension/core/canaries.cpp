#include "core/canaries.hpp"

#include "common/no_postgres.hpp"

namespace pg_ha::core {

namespace {
Canaries g_canaries;   // written only by enable_canary, before any step
}  // namespace

const Canaries& canaries() { return g_canaries; }

bool enable_canary(const std::string& name) {
  struct Entry {
    const char* name;
    bool Canaries::*flag;
  };
  static const Entry kAll[] = {{"no_fence_margin", &Canaries::no_fence_margin},
                               {"config_ttl", &Canaries::config_ttl},
                               {"no_term_compare", &Canaries::no_term_compare},
                               {"ignore_sync_set", &Canaries::ignore_sync_set},
                               {"ssn_before_record", &Canaries::ssn_before_record},
                               {"no_lag_check", &Canaries::no_lag_check},
                               {"worst_candidate", &Canaries::worst_candidate},
                               {"no_sticky_fence", &Canaries::no_sticky_fence},
                               {"no_rearm_compare", &Canaries::no_rearm_compare},
                               {"no_silence_margin", &Canaries::no_silence_margin},
                               {"foreign_identity", &Canaries::foreign_identity},
                               {"name_only_standbys", &Canaries::name_only_standbys},
                               {"stray_state", &Canaries::stray_state}};
  for (const Entry& e : kAll) {
    if (name == e.name) {
      g_canaries.*e.flag = true;
      return true;
    }
  }
  return false;
}

}  // namespace pg_ha::core
