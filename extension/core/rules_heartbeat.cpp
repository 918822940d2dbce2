// The member heartbeat (and, on the primary, the optime) and operator restart requests.
#include "core/step_context.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core::detail {

namespace {

MemberRecord member_record(const Ctx& c) {
  MemberRecord r;
  r.name = c.me;
  r.role = !c.local.postgres_running ? Role::Unknown : c.local.in_recovery ? Role::Replica : Role::Primary;
  r.state = c.d.state;
  r.postgres_running = c.local.postgres_running;
  r.timeline = c.local.timeline;
  r.flush_lsn = c.local.flush_lsn;
  r.replay_lsn = c.local.replay_lsn;
  r.upstream = c.local.receiver_streaming ? c.local.upstream : "";
  r.host = c.node.host;
  r.port = c.node.port;
  r.api_url = c.node.api_url;
  r.lease_id = c.obs.lease.id;
  r.tags = c.node.tags;
  r.pending_restart = c.local.pending_restart;
  return r;
}

// What must reach etcd at once when it changes; positions may wait for the next interval.
std::string identity(const MemberRecord& r) {
  MemberRecord k = r;
  k.flush_lsn = k.replay_lsn = 0;
  return encode(k);
}

}  // namespace

void heartbeat(Ctx& c) {
  if (!c.has_lease()) return;
  MemberRecord r = member_record(c);
  std::string body = encode(r);
  auto in_view = c.view.members.find(c.me);
  bool missing = in_view == c.view.members.end() || in_view->second.lease != c.obs.lease.id;
  std::string id = identity(r);
  bool identity_changed = id != c.mem.published_identity;
  bool due = c.now - c.mem.published_member_ms >= c.cfg.loop_wait_ms;
  if (!missing && !identity_changed && !(due && body != c.mem.published_member)) return;
  kv::Txn t;
  t.success = {kv::RequestOp::put(c.keys.member(c.me), body, c.obs.lease.id)};
  if (r.role == Role::Primary && c.holds_leader() && !c.d.fenced) {
    t.success.push_back(kv::RequestOp::put(c.keys.optime(), encode(OptimeRecord{c.local.timeline, c.local.flush_lsn})));
  }
  c.write("heartbeat", std::move(t));
  c.mem.published_member = body;
  c.mem.published_identity = id;
  c.mem.published_member_ms = c.now;
}

void restart_request(Ctx& c) {
  auto it = c.view.restart_requests.find(c.me);
  if (it == c.view.restart_requests.end() || c.d.sidecar) return;
  std::string id = "restart-" + std::to_string(it->second.mod_revision);
  if (c.local.sidecar_done_id == id) {
    kv::Txn t;
    t.compare = {kv::Compare::mod_revision_is(c.keys.restart(c.me), it->second.mod_revision)};
    t.success = {kv::RequestOp::del(c.keys.restart(c.me))};
    c.write("restart done", std::move(t));
    return;
  }
  SidecarRequest r;
  r.kind = SidecarRequest::Kind::Restart;
  r.id = id;
  r.reason = "restart requested by an operator";
  c.d.sidecar = r;
}

}  // namespace pg_ha::core::detail
