#include "core/slots.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/no_postgres.hpp"

namespace pg_ha::core {
namespace {

constexpr size_t kMaxSlotName = 63;   // NAMEDATALEN - 1

// One byte of a node name in the slot code (see member_slot_name).
std::string code_of(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) return std::string(1, ch);
  if (ch >= 'A' && ch <= 'Z') return std::string("_") + static_cast<char>(ch - 'A' + 'a');
  if (ch == '_') return "__";
  if (ch == '-') return "_0";
  if (ch == '.') return "_1";
  // Not a valid node name byte (validate_node_name): still injective, as "_3" + two hex digits.
  char hex[8];
  snprintf(hex, sizeof hex, "_3%02x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
  return hex;
}

uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool is_member_slot(const std::string& name) { return name.rfind(kMemberSlotPrefix, 0) == 0; }

}  // namespace

std::string member_slot_name(const std::string& node_name) {
  std::string prefix = kMemberSlotPrefix;
  std::vector<std::string> codes;
  size_t total = prefix.size();
  for (char ch : node_name) {
    codes.push_back(code_of(ch));
    total += codes.back().size();
  }
  std::string out = prefix;
  if (total <= kMaxSlotName) {
    for (const std::string& c : codes) out += c;
    return out;
  }
  char hash[24];
  snprintf(hash, sizeof hash, "_2%016llx", static_cast<unsigned long long>(fnv1a64(node_name)));
  size_t budget = kMaxSlotName - std::string(hash).size();
  for (const std::string& c : codes) {
    if (out.size() + c.size() > budget) break;
    out += c;
  }
  return out + hash;
}

Status validate_slot_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxSlotName)
    return make_error(ErrorKind::Invalid, "slot name \"" + name + "\" must be 1 to 63 bytes long");
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    if (!ok)
      return make_error(ErrorKind::Invalid,
                        "slot name \"" + name + "\" may contain only lowercase letters, digits and '_'");
  }
  if (is_member_slot(name))
    return make_error(ErrorKind::Invalid, "slot name \"" + name + "\" starts with \"" + kMemberSlotPrefix +
                                              "\", which pg_ha keeps for the members' own slots");
  return ok_status();
}

namespace {

const ExistingSlot* find_slot(const std::vector<ExistingSlot>& slots, const std::string& name) {
  for (const ExistingSlot& s : slots)
    if (s.name == name) return &s;
  return nullptr;
}

// use_slots off: every member slot that is not in use goes; the rest waits for its stream to end.
SlotPlan drop_member_slots(const SlotPlanInput& in) {
  SlotPlan plan;
  for (const ExistingSlot& s : in.existing)
    if (s.physical && is_member_slot(s.name) && !s.active) plan.drop.push_back(s.name);
  return plan;
}

// A replica keeps each member's slot where that member is (as far as this node has replayed), so
// that after a failover the slot holds what the member still needs and no more.
void plan_advance(const SlotPlanInput& in, const MemberRecord& m, const ExistingSlot& slot, SlotPlan* plan) {
  if (in.role != SlotRole::Replica || slot.active || slot.restart_lsn == 0) return;
  if (m.timeline != in.timeline) return;
  Lsn to = std::min(m.flush_lsn, in.replay_lsn);
  if (to > slot.restart_lsn) plan->advance.push_back({slot.name, to});
}

}  // namespace

SlotPlan plan_slots(const SlotPlanInput& in, const SlotMemory& memory) {
  if (in.role == SlotRole::None || !in.config || !in.members) return SlotPlan{{}, {}, {}, memory};
  if (!in.config->use_slots) return drop_member_slots(in);
  SlotPlan plan;
  std::set<std::string> present;
  for (const auto& [name, record] : *in.members) {
    if (name == in.self) continue;
    std::string slot_name = member_slot_name(name);
    present.insert(slot_name);
    plan.memory[slot_name] = in.now_ms;
    const ExistingSlot* slot = find_slot(in.existing, slot_name);
    if (!slot) {
      plan.create.push_back(slot_name);
    } else if (slot->physical && slot->restart_lsn == 0 && !slot->active) {
      // Invalidated (max_slot_wal_keep_size): useless as it is; a new one lets the member stream
      // again once it has been re-cloned or rewound.
      plan.drop.push_back(slot_name);
      plan.create.push_back(slot_name);
    } else if (slot->physical) {
      plan_advance(in, record.value, *slot, &plan);
    }
  }
  TimeMs ttl_ms = static_cast<TimeMs>(in.config->member_slots_ttl_s) * 1000;
  std::string own = member_slot_name(in.self);
  for (const ExistingSlot& s : in.existing) {
    if (!s.physical || !is_member_slot(s.name) || present.count(s.name)) continue;
    auto seen = memory.find(s.name);
    TimeMs since = seen == memory.end() ? in.now_ms : seen->second;
    bool expired = s.name == own || in.now_ms - since >= ttl_ms;
    // Kept while its member may come back, or while something still streams from it.
    if (!expired || s.active) plan.memory[s.name] = since;
    else plan.drop.push_back(s.name);
  }
  if (in.role == SlotRole::Primary) {
    for (const auto& [name, type] : in.config->permanent_slots)
      if (!find_slot(in.existing, name)) plan.create.push_back(name);
  }
  return plan;
}

}  // namespace pg_ha::core
