// The agent drives the HA core against the real world: it keeps the etcd lease alive, keeps the
// etcd view current (a linearizable read seeds a cache that watch events keep current), steps the core, and
// carries out its decisions in the documented order (gate first, then etcd writes, then local
// actions). The worker inside PostgreSQL runs it; it has no PostgreSQL headers of its own.
#pragma once

#include <optional>
#include <string>

#include "agent/auto_conf.hpp"
#include "agent/ports.hpp"
#include "agent/term_memory.hpp"
#include "agent/view_cache.hpp"
#include "core/config.hpp"
#include "core/schema.hpp"
#include "core/slots.hpp"
#include "core/step.hpp"

namespace pg_ha::agent {

struct AgentSettings {
  core::NodeConfig node;
  std::string key_prefix = "/pg_ha";
  std::string cluster;
  std::string state_dir;            // where the include files (auto_conf.hpp) and the sidecar channel live
  ReplicationSettings replication;
};

class Agent {
 public:
  Agent(AgentSettings settings, EtcdPort& etcd, LocalPort& local);

  // Runs until the local port asks to stop, then releases leadership (unless a restart by the
  // sidecar is in progress, see release_on_stop()).
  void run();
  // One iteration; returns how long to wait for an etcd change before the next one (ms).
  int iterate();
  // Revokes the lease (leader and member keys go with it) so failover starts at once.
  void release_leadership(const std::string& why);

 private:
  void load_identity();
  void maintain_lease(int64_t now);
  void read_leader_lease(int64_t now);
  void regrant_lease();
  void settle_leftover_lease();
  Result<bool> move_keys(int64_t from_lease, int64_t to_lease);
  int64_t lease_ttl_ms() const;
  int64_t keepalive_interval_ms() const;
  int64_t next_ttl_read_ms() const;
  void refresh_view(int64_t now);
  void absorb(const Result<WatchBatch>& batch);
  void confirm_view(int64_t store_revision, int64_t sent_ms);
  void catch_up(int64_t revision);
  void rebuild_view();
  core::Observation observe(int64_t now);
  void apply_gate(const core::Decision& d);
  void clamp_gate(int64_t deadline_ms);
  bool execute_writes(const core::Decision& d);
  void apply_local_actions(const core::Decision& d);
  bool write_conf(const char* file, const std::string& conf, std::string* written);
  bool write_hba();
  void write_sidecar_request(const core::SidecarRequest& r);
  core::SidecarRequest with_incarnation(core::SidecarRequest r);
  void maintain_slots(const core::Decision& d, const core::Observation& obs);
  std::string primary_slot_name() const;
  void log_decision(const core::Decision& d);
  void publish_snapshot(const core::Decision& d, const core::Observation& obs);
  int wait_for_first_view(int64_t now);
  int decide_nothing(int64_t now, const std::string& reason, const std::string& fence_reason);
  bool state_older_than_seen();
  int refuse_older_state(int64_t now);

  AgentSettings settings_;
  core::Keys keys_;
  EtcdPort& etcd_;
  LocalPort& local_;
  core::ClusterConfig config_;
  core::NodeMemory memory_;
  core::LeaseObservation lease_;
  int64_t lease_asked_ttl_s_ = 0;    // the ttl this lease was asked for (etcd may grant another)
  TermSeen seen_;                     // term_memory.hpp
  bool seen_loaded_ = false;
  int64_t leftover_lease_ = 0;       // a re-grant's old lease that may still hold keys (unknown outcome)
  bool lease_adoption_tried_ = false;
  std::string identity_error_;
  int64_t last_keepalive_attempt_ms_ = -1;
  // Fast takeover (docs/protocol.md): the leader's lease the core wants read, its last reading and
  // when it was asked; and whether the core asked us to stop renewing our own lease.
  int64_t ttl_lease_wanted_ = 0;
  core::LeaseTtlReading leader_lease_;
  int64_t ttl_read_at_ms_ = 0;      // Decision::read_lease_ttl_at
  int64_t last_ttl_read_ms_ = -1;   // a failed reading leaves the core's time behind: no faster than this
  bool hold_keepalive_ = false;
  ViewCache cache_;
  core::EtcdView view_;              // built from cache_ (meaningful once cache_.valid())
  bool view_stale_ = true;           // the cache may miss changes: read before deciding
  int64_t written_revision_ = 0;     // revision of this node's latest successful write
  int64_t view_ok_ms_ = -1;          // when the cache was last known current
  std::string rejected_config_;
  std::string etcd_error_;
  bool fenced_published_ = true;
  int64_t gate_deadline_ms_ = 0;   // what apply_gate/clamp_gate published last
  std::string gate_reason_;
  std::string auto_conf_written_;
  std::string parameters_conf_written_;
  bool hba_unmanaged_logged_ = false;   // pg_hba.conf without the sidecar's section: said once
  std::optional<core::FollowTarget> following_;
  std::string synchronous_standby_names_;
  std::string sidecar_request_id_;
  std::string last_logged_reason_;
  bool promote_requested_ = false;
  core::SlotMemory slot_memory_;     // member_slots_ttl clocks (core/slots.hpp)
  std::string slot_error_;           // last slot failure logged (logged again only when it changes)
};

}  // namespace pg_ha::agent
