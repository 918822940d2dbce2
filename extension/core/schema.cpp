#include "core/schema.hpp"

#include <cstdio>

#include "core/json_fields.hpp"
#include "core/member_json.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

using json_fields::json;
using json_fields::read;
using json_fields::read_lsn;

namespace {

std::string padded(int64_t term) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(term));
  return buf;
}

json tags_json(const Tags& t) {
  return {{"nofailover", t.nofailover}, {"priority", t.priority}, {"nosync", t.nosync}, {"noloadbalance", t.noloadbalance}};
}

Status read_tags(const json& obj, Tags* t) {
  auto it = obj.find("tags");
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_object()) return make_error(ErrorKind::Protocol, "field \"tags\" must be an object");
  Status checks[] = {read(*it, "nofailover", &t->nofailover), read(*it, "priority", &t->priority, 0, 1000000),
                     read(*it, "nosync", &t->nosync), read(*it, "noloadbalance", &t->noloadbalance)};
  for (const Status& s : checks) if (!s.ok()) return s;
  return ok_status();
}

// Wraps the first failed field reader with the record's name. (The value is returned by the
// caller afterwards: argument evaluation order is unspecified, so never pass it alongside.)
Status finish(const char* what, std::initializer_list<Status> checks) {
  for (const Status& s : checks) {
    if (!s.ok()) return make_error(ErrorKind::Protocol, std::string(what) + ": " + s.error().message);
  }
  return ok_status();
}

// A member name read from a record: "" (none) or a valid node name.
Status check_name(const char* field, const std::string& name) {
  if (name.empty()) return ok_status();
  Status s = validate_node_name(name);
  if (!s.ok()) return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\": " + s.error().message);
  return ok_status();
}

Status read_name(const json& obj, const char* field, std::string* out) {
  Status s = read(obj, field, out);
  if (!s.ok()) return s;
  return check_name(field, *out);
}

Status read_name_list(const json& obj, const char* field, std::vector<std::string>* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_array()) return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must be an array");
  for (const json& v : *it) {
    if (!v.is_string()) return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must hold strings");
    out->push_back(v.get<std::string>());
    if (Status n = check_name(field, out->back()); !n.ok()) return n;
  }
  return ok_status();
}

// An object of member name -> string (absent: empty).
Status read_name_map(const json& obj, const char* field, std::map<std::string, std::string>* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return ok_status();
  if (!it->is_object()) return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must be an object");
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) return make_error(ErrorKind::Protocol, std::string("field \"") + field + "\" must hold strings");
    if (Status n = check_name(field, e.key()); !n.ok()) return n;
    (*out)[e.key()] = e.value().get<std::string>();
  }
  return ok_status();
}

// host and port of a member: both absent (not reachable yet) or both valid.
template <class R>
Status check_address(const R& r) {
  if (r.host.empty() && r.port == 0) return ok_status();
  if (Status h = validate_host(r.host); !h.ok()) return h;
  return validate_port(r.port);
}

}  // namespace

Status validate_host(const std::string& host) {
  if (host.empty() || host.size() > 253) return make_error(ErrorKind::Invalid, "a host must be 1 to 253 bytes long");
  for (char ch : host) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || ch == '_' || ch == ':' || ch == '%';
    if (!ok) return make_error(ErrorKind::Invalid, "a host may contain only letters, digits, '.', '-', '_', ':' and '%'");
  }
  return ok_status();
}

Status validate_port(int64_t port) {
  if (port < 1 || port > 65535) return make_error(ErrorKind::Invalid, "a port must be between 1 and 65535");
  return ok_status();
}

Keys::Keys(std::string prefix, std::string cluster) {
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  root_ = prefix + "/" + cluster + "/";
}

std::string Keys::election_term_prefix(int64_t term) const { return election_prefix() + padded(term) + "/"; }
std::string Keys::election_report(int64_t term, const std::string& name) const { return election_term_prefix(term) + name; }
std::string Keys::history(int64_t term) const { return history_prefix() + padded(term); }

// ---- encoders --------------------------------------------------------------------------------

std::string encode(const InitializeRecord& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"node", r.node}, {"system_identifier", r.system_identifier}});
}

std::string encode(const MemberRecord& r) { return member_json(r); }

std::string encode(const LeaderRecord& r) {
  json j = {{"version", kSchemaVersion}, {"name", r.name}, {"term", r.term}};
  if (r.arm != 0) {
    j["arm"] = r.arm;
    j["silence_ms"] = r.silence_ms;
  }
  return json_fields::dump(j);
}

std::string encode(const StateRecord& r) {
  json j = {{"version", kSchemaVersion}, {"term", r.term}, {"primary", r.primary}, {"timeline", r.timeline},
            {"paused", r.paused}, {"sync_active", r.sync_active}, {"sync_quorum", r.sync_quorum},
            {"sync_standbys", r.sync_standbys}};
  if (!r.primary_id.empty()) j["primary_id"] = r.primary_id;
  if (!r.sync_ids.empty()) j["sync_ids"] = r.sync_ids;
  if (r.request) {
    j["request"] = {{"from", r.request->from}, {"to", r.request->to}, {"failover", r.request->failover},
                    {"force", r.request->force}};
  }
  return json_fields::dump(j);
}

std::string encode(const OptimeRecord& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"timeline", r.timeline}, {"lsn", lsn_to_string(r.lsn)}});
}

std::string encode(const ElectionReport& r) {
  json j{{"version", kSchemaVersion}, {"name", r.name}, {"term", r.term}, {"timeline", r.timeline},
         {"lsn", lsn_to_string(r.lsn)}, {"tags", tags_json(r.tags)}, {"was_primary", r.was_primary}};
  if (!r.member_id.empty()) j["member_id"] = r.member_id;
  return json_fields::dump(j);
}

std::string encode(const HistoryRecord& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"term", r.term}, {"reason", r.reason}, {"old_primary", r.old_primary},
              {"new_primary", r.new_primary}, {"old_timeline", r.old_timeline}, {"lsn", lsn_to_string(r.lsn)},
              {"at_unix_ms", r.at_unix_ms}});
}

std::string encode(const NodeIdentity& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"member_id", r.member_id}, {"system_identifier", r.system_identifier}}) +
         "\n";
}

std::string encode(const DownRecord& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"name", r.name}, {"role", r.role}, {"state", r.state},
                                {"reason", r.reason}, {"since_unix_ms", r.since_unix_ms}, {"host", r.host},
                                {"port", r.port}, {"api_url", r.api_url}, {"member_id", r.member_id}});
}

// ---- decoders --------------------------------------------------------------------------------

#define PG_HA_PARSE(what)                                        \
  auto parsed = json_fields::parse_object(text, what);           \
  if (!parsed.ok()) return parsed.error();                       \
  const json& j = *parsed;                                       \
  if (Status v = json_fields::check_version(j, what); !v.ok()) return v.error()

Result<InitializeRecord> decode_initialize(const std::string& text) {
  PG_HA_PARSE("initialize");
  InitializeRecord r;
  Status s = finish("initialize", {read_name(j, "node", &r.node), read(j, "system_identifier", &r.system_identifier)});
  if (!s.ok()) return s.error();
  return r;
}

Result<MemberRecord> decode_member(const std::string& text) {
  PG_HA_PARSE("member");
  MemberRecord r;
  std::string role, lease;
  auto res = finish("member", {read_name(j, "name", &r.name), read(j, "role", &role), read(j, "state", &r.state),
                                  read(j, "postgres_running", &r.postgres_running), read(j, "timeline", &r.timeline),
                                  read_lsn(j, "flush_lsn", &r.flush_lsn), read_lsn(j, "replay_lsn", &r.replay_lsn),
                                  read_name(j, "upstream", &r.upstream), read(j, "host", &r.host),
                                  read(j, "port", &r.port, 0, 65535), read(j, "api_url", &r.api_url),
                                  read(j, "lease_id", &lease), read_tags(j, &r.tags),
                                  read(j, "pending_restart", &r.pending_restart), read(j, "error", &r.error),
                                  read(j, "member_id", &r.member_id), read(j, "system_identifier", &r.system_identifier)});
  if (!res.ok()) return res.error();
  if (r.name.empty()) return make_error(ErrorKind::Protocol, "member: no \"name\"");
  if (Status a = check_address(r); !a.ok()) return make_error(ErrorKind::Protocol, "member: " + a.error().message);
  r.role = role_from_name(role);
  if (!lease.empty()) {
    char* end = nullptr;
    long long v = std::strtoll(lease.c_str(), &end, 10);
    if (*end != '\0') return make_error(ErrorKind::Protocol, "member: field \"lease_id\" must be a decimal integer");
    r.lease_id = v;
  }
  return r;
}

Result<LeaderRecord> decode_leader(const std::string& text) {
  PG_HA_PARSE("leader");
  LeaderRecord r;
  Status s = finish("leader", {read_name(j, "name", &r.name), read(j, "term", &r.term, 0, INT64_MAX),
                               read(j, "arm", &r.arm, INT64_MIN, INT64_MAX),
                               read(j, "silence_ms", &r.silence_ms, 0, INT64_MAX)});
  if (!s.ok()) return s.error();
  if (r.name.empty()) return make_error(ErrorKind::Protocol, "leader: no \"name\"");
  return r;
}

Result<StateRecord> decode_state(const std::string& text) {
  PG_HA_PARSE("state");
  StateRecord r;
  auto res = finish("state", {read(j, "term", &r.term, 0, INT64_MAX), read_name(j, "primary", &r.primary),
                                 read(j, "primary_id", &r.primary_id), read(j, "timeline", &r.timeline), read(j, "paused", &r.paused),
                                 read(j, "sync_active", &r.sync_active), read(j, "sync_quorum", &r.sync_quorum, 0, 64),
                                 read_name_list(j, "sync_standbys", &r.sync_standbys),
                                 read_name_map(j, "sync_ids", &r.sync_ids)});
  if (!res.ok()) return res.error();
  auto req = j.find("request");
  if (req != j.end() && !req->is_null()) {
    if (!req->is_object()) return make_error(ErrorKind::Protocol, "state: field \"request\" must be an object");
    SwitchoverRequest q;
    auto rr = finish("state.request", {read_name(*req, "from", &q.from), read_name(*req, "to", &q.to),
                                          read(*req, "failover", &q.failover), read(*req, "force", &q.force)});
    if (!rr.ok()) return rr.error();
    r.request = q;
  }
  return r;
}

Result<OptimeRecord> decode_optime(const std::string& text) {
  PG_HA_PARSE("optime");
  OptimeRecord r;
  Status s = finish("optime", {read(j, "timeline", &r.timeline), read_lsn(j, "lsn", &r.lsn)});
  if (!s.ok()) return s.error();
  return r;
}

Result<ElectionReport> decode_report(const std::string& text) {
  PG_HA_PARSE("election report");
  ElectionReport r;
  Status s = finish("election report",
                {read_name(j, "name", &r.name), read(j, "term", &r.term, 0, INT64_MAX), read(j, "timeline", &r.timeline),
                 read_lsn(j, "lsn", &r.lsn), read_tags(j, &r.tags), read(j, "was_primary", &r.was_primary),
                 read(j, "member_id", &r.member_id)});
  if (!s.ok()) return s.error();
  return r;
}

Result<HistoryRecord> decode_history(const std::string& text) {
  PG_HA_PARSE("history");
  HistoryRecord r;
  Status s = finish("history",
                {read(j, "term", &r.term, 0, INT64_MAX), read(j, "reason", &r.reason),
                 read_name(j, "old_primary", &r.old_primary), read_name(j, "new_primary", &r.new_primary),
                 read(j, "old_timeline", &r.old_timeline), read_lsn(j, "lsn", &r.lsn),
                 read(j, "at_unix_ms", &r.at_unix_ms, INT64_MIN, INT64_MAX)});
  if (!s.ok()) return s.error();
  return r;
}

Result<NodeIdentity> decode_identity(const std::string& text) {
  PG_HA_PARSE("identity");
  NodeIdentity r;
  Status s = finish("identity", {read(j, "member_id", &r.member_id), read(j, "system_identifier", &r.system_identifier)});
  if (!s.ok()) return s.error();
  if (r.member_id.empty()) return make_error(ErrorKind::Protocol, "identity: field \"member_id\" is missing");
  return r;
}

Result<DownRecord> decode_down(const std::string& text) {
  PG_HA_PARSE("down");
  DownRecord r;
  Status s = finish("down", {read_name(j, "name", &r.name), read(j, "role", &r.role), read(j, "state", &r.state),
                             read(j, "reason", &r.reason), read(j, "since_unix_ms", &r.since_unix_ms, 0, INT64_MAX),
                             read(j, "host", &r.host), read(j, "port", &r.port, 0, 65535), read(j, "api_url", &r.api_url),
                             read(j, "member_id", &r.member_id)});
  if (!s.ok()) return s.error();
  if (r.name.empty()) return make_error(ErrorKind::Protocol, "down: no \"name\"");
  if (Status a = check_address(r); !a.ok()) return make_error(ErrorKind::Protocol, "down: " + a.error().message);
  return r;
}

#undef PG_HA_PARSE

// ---- the view --------------------------------------------------------------------------------

namespace {

template <class T>
Versioned<T> versioned(T value, const kv::KeyValue& kv) {
  return Versioned<T>{std::move(value), kv.create_revision, kv.mod_revision, kv.lease};
}

bool parse_term(const std::string& text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v > (INT64_MAX - (c - '0')) / 10) return false;  // would overflow
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Each handler files one key into the view or returns a problem.
Status file_key(const std::string& rel, const kv::KeyValue& kv, EtcdView* view) {
  auto take = [&](auto decoded, auto* slot) -> Status {
    if (!decoded.ok()) return decoded.error();
    *slot = versioned(std::move(*decoded), kv);
    return ok_status();
  };
  if (rel == "initialize") return take(decode_initialize(kv.value), &view->initialize);
  if (rel == "leader") return take(decode_leader(kv.value), &view->leader);
  if (rel == "state") return take(decode_state(kv.value), &view->state);
  if (rel == "optime") return take(decode_optime(kv.value), &view->optime);
  if (rel == "config") {
    auto c = parse_cluster_config(kv.value);
    if (!c.ok()) return c.error();
    view->config = versioned(std::move(*c), kv);
    return ok_status();
  }
  if (rel.rfind("members/", 0) == 0) {
    std::string name = rel.substr(8);
    auto m = decode_member(kv.value);
    if (!m.ok()) return m.error();
    if (m->name != name) return make_error(ErrorKind::Protocol, "member record names \"" + m->name + "\"");
    view->members[name] = versioned(std::move(*m), kv);
    return ok_status();
  }
  if (rel.rfind("election/", 0) == 0) {
    std::string rest = rel.substr(9);
    size_t slash = rest.find('/');
    int64_t term = 0;
    if (slash == std::string::npos || !parse_term(rest.substr(0, slash), &term)) {
      return make_error(ErrorKind::Protocol, "malformed election key");
    }
    auto r = decode_report(kv.value);
    if (!r.ok()) return r.error();
    std::string name = rest.substr(slash + 1);
    if (r->term != term || r->name != name) {
      return make_error(ErrorKind::Protocol, "election report does not match its key");
    }
    view->reports[term][name] = versioned(std::move(*r), kv);  // not r->name: the move runs first
    return ok_status();
  }
  if (rel.rfind("history/", 0) == 0) {
    int64_t term = 0;
    if (!parse_term(rel.substr(8), &term)) return make_error(ErrorKind::Protocol, "malformed history key");
    auto h = decode_history(kv.value);
    if (!h.ok()) return h.error();
    view->history[term] = versioned(std::move(*h), kv);
    return ok_status();
  }
  if (rel.rfind("restart/", 0) == 0) {
    // The problem names the key already (escaped, clipped): not the raw name again.
    if (!validate_node_name(rel.substr(8)).ok()) return make_error(ErrorKind::Protocol, "not a valid node name");
    view->restart_requests[rel.substr(8)] = versioned<int64_t>(0, kv);
    return ok_status();
  }
  if (rel.rfind("down/", 0) == 0) {
    std::string name = rel.substr(5);
    auto d = decode_down(kv.value);
    if (!d.ok()) return d.error();
    if (d->name != name) return make_error(ErrorKind::Protocol, "down record names \"" + d->name + "\"");
    view->down[name] = versioned(std::move(*d), kv);
    return ok_status();
  }
  if (rel.rfind("reinit/", 0) == 0) {
    if (!validate_node_name(rel.substr(7)).ok()) return make_error(ErrorKind::Protocol, "not a valid node name");
    view->reinit_requests[rel.substr(7)] = versioned<int64_t>(0, kv);
    return ok_status();
  }
  return make_error(ErrorKind::Protocol, "unknown key");
}

// A key as a problem names it: at most 200 bytes, bytes outside printable ASCII as \xNN, so a
// hostile key can neither flood the status nor carry invalid UTF-8 into it.
std::string printable_key(const std::string& key) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < key.size() && out.size() < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
  }
  if (out.size() >= 200) out += "...";
  return out;
}

}  // namespace

EtcdView build_view(const Keys& keys, const std::vector<kv::KeyValue>& kvs, int64_t revision) {
  EtcdView view;
  view.revision = revision;
  const std::string& root = keys.root();
  for (const kv::KeyValue& kv : kvs) {
    if (kv.key.compare(0, root.size(), root) != 0) continue;
    std::string rel = kv.key.substr(root.size());
    Status s = file_key(rel, kv, &view);
    if (!s.ok()) view.problems.push_back(printable_key(kv.key) + ": " + s.error().message);
  }
  return view;
}

}  // namespace pg_ha::core
