// Replication slots (docs/operations.md, "Replication slots"): the name of each member's physical
// slot, the check of permanent slot names from the cluster config, and the pure plan of which
// slots this node creates, drops and advances. The worker carries the plan out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "core/types.hpp"

namespace pg_ha::core {

// Every member slot starts with this; pg_ha drops only slots that carry it, so a slot made by
// hand or by a backup tool is never touched. Permanent slots may not use it.
inline constexpr const char* kMemberSlotPrefix = "pgha_";

// The physical slot of member `node_name`: deterministic, a valid slot name (a-z, 0-9, '_', at
// most 63 bytes), and different for different names. Lowercase letters and digits stay; each
// other byte becomes '_' plus one code byte ("_" -> "__", "A" -> "_a", "-" -> "_0", "." -> "_1").
// That code is prefix-free, so two names never share a result. A result longer than 63 bytes keeps
// a cut of the code (at a code boundary) and ends in "_2" + a 64-bit hash of the name: "_2" never
// occurs in an uncut code, so a cut name can only meet another cut name with the same hash.
std::string member_slot_name(const std::string& node_name);

// A permanent slot's name: 1-63 bytes of a-z, 0-9, '_', not starting with kMemberSlotPrefix.
Status validate_slot_name(const std::string& name);

// A slot as PostgreSQL holds it (pg_replication_slots).
struct ExistingSlot {
  std::string name;
  bool physical = true;
  bool active = false;
  Lsn restart_lsn = 0;   // 0: never reserved, or invalidated by max_slot_wal_keep_size
};

enum class SlotRole { None, Primary, Replica };

struct SlotPlanInput {
  SlotRole role = SlotRole::None;
  std::string self;
  const ClusterConfig* config = nullptr;
  const std::map<std::string, Versioned<MemberRecord>>* members = nullptr;
  std::vector<ExistingSlot> existing;
  TimeMs now_ms = 0;
  Lsn replay_lsn = 0;      // replica: slots are never advanced past what it replayed
  uint32_t timeline = 0;
};

// When each member slot's member was last seen in etcd (or, for a slot whose member this worker
// never saw, when the slot was first seen): the member_slots_ttl clock.
using SlotMemory = std::map<std::string, TimeMs>;

struct SlotAdvance {
  std::string name;
  Lsn to = 0;
};

struct SlotPlan {
  std::vector<std::string> drop;      // carried out first (an invalidated slot is dropped, then re-made)
  std::vector<std::string> create;    // physical, WAL reserved at once
  std::vector<SlotAdvance> advance;   // replica: follow each member's position
  SlotMemory memory;
};

SlotPlan plan_slots(const SlotPlanInput& in, const SlotMemory& memory);

}  // namespace pg_ha::core
