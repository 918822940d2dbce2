// The etcd key layout and the JSON records stored under it: the one place that defines them
// (documented in docs/keys.md). Every record carries "version": kSchemaVersion; a record with a
// newer version or a malformed body is reported, never guessed at.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "core/config.hpp"
#include "core/types.hpp"

namespace pg_ha::core {

constexpr int kSchemaVersion = 1;

// Key names under <prefix>/<cluster>/.
class Keys {
 public:
  Keys(std::string prefix, std::string cluster);
  const std::string& root() const { return root_; }   // "<prefix>/<cluster>/"
  std::string initialize() const { return root_ + "initialize"; }
  std::string config() const { return root_ + "config"; }
  std::string leader() const { return root_ + "leader"; }
  std::string state() const { return root_ + "state"; }
  std::string optime() const { return root_ + "optime"; }
  std::string members_prefix() const { return root_ + "members/"; }
  std::string member(const std::string& name) const { return members_prefix() + name; }
  std::string election_prefix() const { return root_ + "election/"; }
  std::string election_term_prefix(int64_t term) const;
  std::string election_report(int64_t term, const std::string& name) const;
  std::string history_prefix() const { return root_ + "history/"; }
  std::string history(int64_t term) const;
  std::string restart_prefix() const { return root_ + "restart/"; }
  std::string restart(const std::string& name) const { return restart_prefix() + name; }
  std::string down_prefix() const { return root_ + "down/"; }
  std::string down(const std::string& name) const { return down_prefix() + name; }
  std::string reinit_prefix() const { return root_ + "reinit/"; }
  std::string reinit(const std::string& name) const { return reinit_prefix() + name; }

 private:
  std::string root_;
};

// initialize, no lease: created once by the bootstrap race (compare create_revision == 0) with
// the winner's name; the winner adds the system identifier after initdb (compare mod_revision).
struct InitializeRecord {
  std::string node;
  std::string system_identifier;   // decimal; "" while the winner is still running initdb
};

// members/<name>, under the node's lease: its heartbeat.
struct MemberRecord {
  std::string name;
  Role role = Role::Unknown;
  std::string state;          // "running", "starting", "stopped", "crashed", "fenced", "rewinding"...
  bool postgres_running = false;
  uint32_t timeline = 0;
  Lsn flush_lsn = 0;          // primary: WAL flushed; replica: WAL received and flushed
  Lsn replay_lsn = 0;
  std::string upstream;       // replica: the member it streams from ("" when not streaming)
  std::string host;
  int port = 0;
  std::string api_url;
  int64_t lease_id = 0;
  Tags tags;
  bool pending_restart = false;
  std::string error;          // the last error worth an operator's attention
  // The node's durable identity (NodeIdentity below): a record under this name is only ever
  // written, adopted or taken over by the node with the same member_id.
  std::string member_id;
  std::string system_identifier;  // decimal; the PostgreSQL cluster its data belongs to
};

// <state_dir>/member.identity, made once by the sidecar when it first prepares the data directory
// (docs/keys.md says why it lives outside the data directory). Not an etcd key; its id and system
// identifier go into the member record.
struct NodeIdentity {
  std::string member_id;          // random, 32 hex digits
  std::string system_identifier;  // decimal
};
constexpr const char* kIdentityFile = "member.identity";

// leader, under the primary's lease: only the holder may accept writes.
struct LeaderRecord {
  std::string name;
  int64_t term = 0;
  // Fast takeover (docs/protocol.md): the holder's local time when it last armed its write gate
  // by writing this key; 0 = written by a primary that does not keep the sticky fence, so replicas
  // must wait for the lease to expire. Unique per write: it tells the holder its own write landed.
  int64_t arm = 0;
  // With an arm: the silence (ms, takeover_silence_ms) replicas must see before they take over.
  // The holder's windows never exceed what this allows, whatever its config says since.
  int64_t silence_ms = 0;
};

struct SwitchoverRequest {
  std::string from;       // the primary it was asked of ("" = whoever is primary)
  std::string to;         // candidate
  bool failover = false;  // failover(): may proceed without a live primary
  bool force = false;     // failover to a node that may lose acknowledged commits (I3)
};

// state, no lease: the desired cluster state, changed only by compare on mod_revision.
struct StateRecord {
  int64_t term = 0;
  std::string primary;
  uint32_t timeline = 0;          // the primary's timeline once known (0 = being promoted)
  bool paused = false;
  // I3: the recorded synchronous set. `sync_active` false means commits are not guaranteed on
  // any standby and promotion follows the asynchronous rules (I4).
  bool sync_active = false;
  int sync_quorum = 0;            // commits are acknowledged by this many of sync_standbys
  std::vector<std::string> sync_standbys;
  std::optional<SwitchoverRequest> request;
  // The primary's member_id (docs/keys.md, member identity): a name can pass to another node, a
  // term cannot. "" = not known (written before identities, or by a node without one). Last, so
  // that aggregate initialisers of the fields above stay valid.
  std::string primary_id;
  // The identity (member_id) each name of sync_standbys had when it joined the set: only that
  // node speaks for the name in an election, since a name can pass to another node (FINDINGS
  // F12). A name without one (a record written before identities) is counted by name alone.
  std::map<std::string, std::string> sync_ids;
};

// optime, no lease: the primary's last published WAL position, for lag checks when it is gone.
struct OptimeRecord {
  uint32_t timeline = 0;
  Lsn lsn = 0;
};

// election/<term>/<name>, under the reporter's lease: its final position for that term's election.
struct ElectionReport {
  std::string name;
  int64_t term = 0;
  uint32_t timeline = 0;
  Lsn lsn = 0;
  Tags tags;
  bool was_primary = false;   // the previous primary taking part (etcd outage, same lineage)
  std::string member_id;      // the reporter's identity ("" = a report written before identities)
};

// history/<term>, no lease: written in the same transaction that starts the term.
struct HistoryRecord {
  int64_t term = 0;
  std::string reason;         // "bootstrap", "failover", "switchover", "manual failover"
  std::string old_primary;
  std::string new_primary;
  uint32_t old_timeline = 0;
  Lsn lsn = 0;                // the new primary's position when it won
  int64_t at_unix_ms = 0;     // wall clock of the writer, for display only
};

// down/<name>, under the node's *sidecar's* own lease: that node's PostgreSQL is down and why. The
// worker's member record goes with the worker's lease about a ttl after postgres stops; this key
// keeps the node listed in members() meanwhile (docs/keys.md, "Down members"). The sidecar deletes
// it once postgres serves again; it goes with the sidecar's lease when the sidecar stops or dies.
// Display only: no rule of the protocol reads it.
struct DownRecord {
  std::string name;
  std::string role;           // what it was when it went down: "primary", "replica" (or "")
  std::string state;          // "stopped", "crashed", "start failed", "crash loop"
  std::string reason;         // postgres's own last words, or why the sidecar leaves it down
  int64_t since_unix_ms = 0;  // when it went down (the sidecar's wall clock)
  std::string host;
  int port = 0;
  std::string api_url;
  std::string member_id;
};

template <class T>
struct Versioned {
  T value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// Everything the core reads from etcd, parsed. Records that fail to parse are listed in
// `problems` and left out: a corrupt member, report or history record costs only that record; a
// corrupt leader or state record stops writes (the primary cannot prove it leads, and no take-over
// can succeed over the key) rather than have the core guess (tests/unit/hostile_view_test.cpp); a
// corrupt config leaves the agent's last good config in force (Agent::rebuild_view).
struct EtcdView {
  int64_t revision = 0;
  std::optional<Versioned<InitializeRecord>> initialize;
  std::optional<Versioned<ClusterConfig>> config;
  std::optional<Versioned<LeaderRecord>> leader;
  std::optional<Versioned<StateRecord>> state;
  std::optional<Versioned<OptimeRecord>> optime;
  std::map<std::string, Versioned<MemberRecord>> members;
  std::map<int64_t, std::map<std::string, Versioned<ElectionReport>>> reports;  // by term
  std::map<int64_t, Versioned<HistoryRecord>> history;                          // by term
  std::map<std::string, Versioned<int64_t>> restart_requests;                   // by node name
  std::map<std::string, Versioned<DownRecord>> down;                            // by node name
  std::map<std::string, Versioned<int64_t>> reinit_requests;                    // by node name
  std::vector<std::string> problems;
};

// restart/<name>, no lease: an operator asked that node to restart PostgreSQL; the value is the
// request time (unix ms, display only). The node deletes it once its sidecar has done it.
// reinit/<name>, no lease: likewise, an operator asked that replica to be re-cloned from the
// primary (its data directory moved aside); the node deletes it once its sidecar has done it.

// What a record from etcd may name. Everything read from etcd is checked with these before any of
// it can reach a conninfo, a command line or a file: a record that fails is a problem in the view.
// A host is a DNS name or an IP address (letters, digits, '.', '-', '_', ':', '%'), 1-253 bytes.
Status validate_host(const std::string& host);
// A port peers connect to: 1-65535.
Status validate_port(int64_t port);

// Builds the view from every key under keys.root() read at one revision.
EtcdView build_view(const Keys& keys, const std::vector<kv::KeyValue>& kvs, int64_t revision);

std::string encode(const InitializeRecord& r);
std::string encode(const MemberRecord& r);
std::string encode(const LeaderRecord& r);
std::string encode(const StateRecord& r);
std::string encode(const OptimeRecord& r);
std::string encode(const ElectionReport& r);
std::string encode(const HistoryRecord& r);
std::string encode(const NodeIdentity& r);
std::string encode(const DownRecord& r);
Result<InitializeRecord> decode_initialize(const std::string& json);
Result<MemberRecord> decode_member(const std::string& json);
Result<LeaderRecord> decode_leader(const std::string& json);
Result<StateRecord> decode_state(const std::string& json);
Result<OptimeRecord> decode_optime(const std::string& json);
Result<ElectionReport> decode_report(const std::string& json);
Result<HistoryRecord> decode_history(const std::string& json);
Result<NodeIdentity> decode_identity(const std::string& json);
Result<DownRecord> decode_down(const std::string& json);

}  // namespace pg_ha::core
