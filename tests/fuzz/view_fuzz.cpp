// The agent's view of etcd from arbitrary keys and values: the watch-fed cache
// (agent/view_cache.cpp), build_view (core/schema.cpp), the status snapshot published to SQL
// (agent/snapshot.cpp) and one core step on the result. Input: a flags byte (this node's local
// state), then one line per key:
//   R <key under the prefix> <value>   part of the initial read
//   P <key> <value> / D <key>          watch events after it
//   O <whole key> <value>              a key outside the cluster prefix
// Properties: nothing crashes; every record in the view passed its checks (names, hosts, ports);
// problems are UTF-8; the snapshot is JSON within its size limit; any address a decision hands on
// (primary_conninfo, the sidecar's rewind/re-clone source) is a valid host.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/snapshot.hpp"
#include "agent/view_cache.hpp"
#include "core/step.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;
using namespace pg_ha::core;

namespace {

const Keys kKeys("/pg_ha", "c1");

struct Parsed {
  std::vector<kv::KeyValue> read;
  std::vector<agent::WatchChange> changes;
};

Parsed parse_lines(const std::string& text) {
  Parsed p;
  int64_t rev = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.size() < 2) continue;
    size_t sp = line.find(' ', 2);
    std::string key = line.substr(2, sp == std::string::npos ? std::string::npos : sp - 2);
    std::string value = sp == std::string::npos ? "" : line.substr(sp + 1);
    kv::KeyValue kv{line[0] == 'O' ? key : kKeys.root() + key, value, rev, rev, 1, rev % 3 == 0 ? 0 : 7};
    ++rev;
    if (line[0] == 'P' || line[0] == 'D') p.changes.push_back(agent::WatchChange{line[0] == 'D', kv});
    else p.read.push_back(kv);
  }
  return p;
}

void check_view(const EtcdView& view) {
  for (const auto& problem : view.problems) {
    if (!fuzz::valid_utf8(problem)) fuzz::show("problem", problem);
    PG_HA_FUZZ_CHECK(fuzz::valid_utf8(problem), "a view problem is not UTF-8");
  }
  for (const auto& [name, m] : view.members) {
    PG_HA_FUZZ_CHECK(m.value.name == name && validate_node_name(name).ok(), "member filed under a bad name");
    if (!m.value.host.empty())
      PG_HA_FUZZ_CHECK(validate_host(m.value.host).ok() && validate_port(m.value.port).ok(), "member with a bad address");
  }
  for (const auto& [term, reports] : view.reports)
    for (const auto& [name, r] : reports) PG_HA_FUZZ_CHECK(r.value.term == term && r.value.name == name, "report off its key");
}

Observation observation(uint8_t flags) {
  Observation obs;
  obs.now_ms = 100000;
  obs.local.postgres_running = !(flags & 8);
  obs.local.in_recovery = flags & 1;
  obs.local.timeline = 1;
  obs.local.flush_lsn = obs.local.replay_lsn = 0x3000000;
  obs.local.system_identifier = 7000000000000000001ULL;
  if (flags & 2) obs.lease = LeaseObservation{7, 99000, 10};
  obs.etcd_view_fresh = flags & 4;
  obs.etcd_view_ms = 99500;
  if (flags & 16) obs.local.standbys.push_back(StandbyConnection{"n2", 0x3000000, true, ""});
  return obs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Parsed p = parse_lines(fuzz::bytes(data + 1, size - 1));
  agent::ViewCache cache;
  cache.reset(static_cast<int64_t>(p.read.size()), p.read);
  int64_t through = static_cast<int64_t>(p.read.size() + p.changes.size());
  cache.apply(p.changes, through);
  PG_HA_FUZZ_CHECK(cache.revision() >= through, "the cache revision went backwards");
  auto kvs = cache.kvs();
  for (size_t i = 1; i < kvs.size(); ++i) PG_HA_FUZZ_CHECK(kvs[i - 1].key < kvs[i].key, "cache keys not unique and sorted");

  EtcdView view = build_view(kKeys, kvs, cache.revision());
  check_view(view);

  ClusterConfig config;
  if (view.config && validate_cluster_config(view.config->value).ok()) config = view.config->value;
  NodeConfig node{"n1", "10.0.0.1", 5432, "http://10.0.0.1:8008", {}, "0123456789abcdef0123456789abcdef"};
  Observation obs = observation(data[0]);
  StepOutput out = step(StepInput{config, node, kKeys, view, obs}, NodeMemory{});
  const Decision& d = out.decision;
  if (d.follow) PG_HA_FUZZ_CHECK(validate_host(d.follow->host).ok(), "follow target with a bad host");
  if (d.sidecar && !d.sidecar->primary_host.empty())
    PG_HA_FUZZ_CHECK(validate_host(d.sidecar->primary_host).ok(), "sidecar request with a bad host");

  agent::SnapshotInput in{node, config, &view, obs, d, true, ""};
  std::string snapshot = agent::render_snapshot(in);
  PG_HA_FUZZ_CHECK(snapshot.size() <= agent::kSnapshotMaxBytes, "snapshot over its size limit");
  PG_HA_FUZZ_CHECK(nlohmann::json::accept(snapshot), "snapshot is not valid JSON");
  return 0;
}
