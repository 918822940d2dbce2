#include "world.hpp"

#include <memory>

#include "driver.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sim {

World::World(const Scenario& s, bool echo)
    : sc(s), rng(s.seed * 0x9E3779B97F4A7C15ULL + 17), keys("/pg_ha", "sim"), trace(echo) {
  int machines = s.nodes + s.spare_nodes;
  links.resize(static_cast<size_t>(machines));
  watch_last_delivery_ms.assign(static_cast<size_t>(machines), 0);
  for (int i = 0; i < machines; ++i) {
    Node n;
    n.index = i;
    n.config.name = "n" + std::to_string(i);
    n.config.host = "10.0.0." + std::to_string(i + 1);
    n.config.port = 5432;
    n.config.tags = s.tags[static_cast<size_t>(std::min(i, s.nodes - 1))];
    n.config.member_id = member_id_for(s.seed, i);
    n.clock = s.clocks[static_cast<size_t>(i)];
    if (i >= s.nodes) {   // a spare: down until a Duplicate fault starts it
      n.retired = true;
      n.up = false;
      n.sc.alive = false;
    }
    nodes.push_back(n);
  }
}

// 32 hex digits, like the sidecar's random identity, but a function of the seed and the machine.
std::string member_id_for(uint64_t seed, int machine) {
  static const char* hex = "0123456789abcdef";
  uint64_t a = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(machine) + 1;
  uint64_t b = (a ^ (a >> 31)) * 0xBF58476D1CE4E5B9ULL;
  std::string out;
  for (uint64_t v : {b, a}) {   // mixed bits first: application_names carry the first 8 (F16)
    for (int i = 15; i >= 0; --i) out += hex[(v >> (4 * i)) & 0xF];
  }
  return out;
}

int World::index_at(const std::string& name, const std::string& host) const {
  if (host.empty()) return index_of(name);
  for (const Node& n : nodes) {
    if (n.config.name == name && n.config.host == host) return n.index;
  }
  return -1;
}

int World::index_of(const std::string& name) const {
  int first = -1, count = 0;
  for (const Node& n : nodes) {
    if (n.config.name != name) continue;
    if (first < 0) first = n.index;
    count += 1;
  }
  if (count < 2) return first;
  const kv::KeyValue* v = etcd.get(keys.member(name));
  auto m = v ? core::decode_member(v->value) : Result<core::MemberRecord>(make_error(ErrorKind::NotFound, "none"));
  for (const Node& n : nodes) {
    if (n.config.name == name && m.ok() && n.config.host == m->host) return n.index;
  }
  for (const Node& n : nodes) {
    if (n.config.name == name && n.up && !n.retired) return n.index;
  }
  return first;
}

void World::fail(const std::string& invariant, const std::string& message) {
  if (violation || sc.skip.find("," + invariant + ",") != std::string::npos) return;
  violation = Violation{invariant, message};
  log(-1, "VIOLATION " + invariant + ": " + message);
}

static std::optional<TimeMs> message_delay(World& w, bool cut) {
  bool lossy = w.now() < w.lossy_until_ms;
  double loss = w.sc.loss + (lossy ? 0.2 : 0.0);
  if (cut || w.rng.chance(loss)) return std::nullopt;
  double slow = w.sc.slow_prob + (lossy ? 0.2 : 0.0);
  TimeMs slow_max = lossy ? std::max<TimeMs>(w.sc.slow_max_ms, 1500) : w.sc.slow_max_ms;
  if (slow_max > 0 && w.rng.chance(slow)) return w.rng.range(w.sc.delay_max_ms, slow_max);
  return w.rng.range(w.sc.delay_min_ms, w.sc.delay_max_ms);
}

std::optional<TimeMs> World::request_delay(int n) {
  const Link& l = links[static_cast<size_t>(n)];
  std::optional<TimeMs> d = message_delay(*this, l.requests_cut > 0);
  // A slow link one way: the request lands, often after the worker stopped waiting for it (a
  // keep-alive that renews the lease although its sender already counted it lost).
  if (d && l.requests_slow > 0) *d = std::max(*d, rng.range(sc.request_timeout_ms / 2, sc.request_timeout_ms * 3));
  return d;
}
std::optional<TimeMs> World::response_delay(int n) {
  const Link& l = links[static_cast<size_t>(n)];
  std::optional<TimeMs> d = message_delay(*this, l.responses_cut > 0);
  if (d && l.responses_slow > 0) *d = std::max(*d, rng.range(sc.request_timeout_ms / 2, sc.request_timeout_ms * 9 / 10));
  return d;
}

bool World::replication_cut(int a, int b) const {
  return links[static_cast<size_t>(a)].isolated > 0 || links[static_cast<size_t>(b)].isolated > 0;
}

void World::rpc(int n, std::function<std::function<void()>()> at_etcd, std::function<void()> on_timeout,
                std::function<bool()> alive) {
  auto answered = std::make_shared<bool>(false);
  TimeMs timeout_at = node(n).clock.real_at(local_now(n) + sc.request_timeout_ms);
  q.at(timeout_at, [answered, alive, on_timeout] {
    if (*answered || !alive()) return;
    *answered = true;
    on_timeout();
  });
  std::optional<TimeMs> there = request_delay(n);
  if (!there) return;
  q.after(*there, [this, n, answered, alive, at_etcd] {
    if (!etcd_up) return;
    std::function<void()> at_node = at_etcd();
    std::optional<TimeMs> back = response_delay(n);
    if (!back) return;
    q.after(*back, [answered, alive, at_node] {
      if (*answered || !alive()) return;
      *answered = true;
      at_node();
    });
  });
}

Result<kv::TxnResult> World::etcd_txn(const kv::Txn& t, int by_node) {
  check_identity_puts(*this, t, by_node);
  before_txn(*this, t);
  std::vector<KvEvent> events;
  Result<kv::TxnResult> r = etcd.txn(t, &events);
  stats.txns += 1;
  if (!r.ok() || !r->succeeded) stats.txn_failed += 1;
  if (r.ok()) after_txn(*this, events);
  publish(events);
  return r;
}

// Watch events go to every node with a live watch, in order, each after its own delay. A lost
// message breaks that node's watch stream; the node notices and reads everything again.
void World::publish(const std::vector<KvEvent>& events) {
  if (events.empty()) return;
  for (auto it = watches.begin(); it != watches.end();) {
    int n = it->first;
    auto [inc, gen] = it->second;
    std::optional<TimeMs> d = response_delay(n);
    if (!d) {
      it = watches.erase(it);
      q.after(rng.range(sc.delay_min_ms, sc.delay_max_ms) + sc.request_timeout_ms / 2,
              [this, n, inc = inc, gen = gen] { on_watch_broken(*this, n, inc, gen); });
      continue;
    }
    TimeMs& last = watch_last_delivery_ms[static_cast<size_t>(n)];
    last = std::max(last, now() + *d);
    q.at(last, [this, n, inc = inc, gen = gen, events] { on_watch_events(*this, n, inc, gen, events); });
    ++it;
  }
}

void World::schedule_expiry() {
  if (!etcd_up) return;
  std::optional<TimeMs> next = etcd.next_expiry_ms();
  if (!next) return;
  TimeMs at = sc.etcd_clock.real_at(*next);
  if (expiry_check_at_ms >= 0 && expiry_check_at_ms <= at) return;
  expiry_check_at_ms = at;
  q.at(at, [this, at] {
    if (expiry_check_at_ms != at) return;
    expiry_check_at_ms = -1;
    if (!etcd_up) return;
    std::vector<KvEvent> events;
    for (int64_t id : etcd.expire(etcd_now(), &events)) log(-1, "etcd: lease " + std::to_string(id) + " expired");
    after_txn(*this, events);
    publish(events);
    schedule_expiry();
  });
}

void World::etcd_go_down() {
  etcd_up = false;
  expiry_check_at_ms = -1;
  for (const auto& [n, w] : watches) {
    q.after(rng.range(sc.delay_min_ms, sc.delay_max_ms), [this, n = n, w = w] { on_watch_broken(*this, n, w.first, w.second); });
  }
  watches.clear();
}

void World::etcd_come_back(bool renew) {
  etcd_up = true;
  if (renew) {
    etcd.renew_all(etcd_now());
  } else {
    std::vector<KvEvent> events;
    for (int64_t id : etcd.expire(etcd_now(), &events)) log(-1, "etcd: lease " + std::to_string(id) + " expired during the outage");
    publish(events);
  }
  schedule_expiry();
}

}  // namespace pg_ha::sim
