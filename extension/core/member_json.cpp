#include "core/member_json.hpp"

#include "core/json_fields.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

namespace {

bool plain(const std::string& s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  }
  return true;
}

void string_value(std::string& out, const std::string& s) {
  if (!plain(s)) {
    out += json_fields::dump(json_fields::json(s));
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

// key is a literal without anything to escape; the first field passes first = true.
void field(std::string& out, const char* key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

const char* boolean(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string member_json(const MemberRecord& r) {
  std::string out;
  out.reserve(512);
  out += '{';
  field(out, "api_url", true), string_value(out, r.api_url);
  field(out, "error"), string_value(out, r.error);
  field(out, "flush_lsn"), string_value(out, lsn_to_string(r.flush_lsn));
  field(out, "host"), string_value(out, r.host);
  field(out, "lease_id"), string_value(out, std::to_string(r.lease_id));
  field(out, "member_id"), string_value(out, r.member_id);
  field(out, "name"), string_value(out, r.name);
  field(out, "pending_restart"), out += boolean(r.pending_restart);
  field(out, "port"), out += std::to_string(r.port);
  field(out, "postgres_running"), out += boolean(r.postgres_running);
  field(out, "replay_lsn"), string_value(out, lsn_to_string(r.replay_lsn));
  field(out, "role"), string_value(out, role_name(r.role));
  field(out, "state"), string_value(out, r.state);
  field(out, "system_identifier"), string_value(out, r.system_identifier);
  field(out, "tags");
  out += '{';
  field(out, "nofailover", true), out += boolean(r.tags.nofailover);
  field(out, "noloadbalance"), out += boolean(r.tags.noloadbalance);
  field(out, "nosync"), out += boolean(r.tags.nosync);
  field(out, "priority"), out += std::to_string(r.tags.priority);
  out += '}';
  field(out, "timeline"), out += std::to_string(r.timeline);
  field(out, "upstream"), string_value(out, r.upstream);
  field(out, "version"), out += std::to_string(kSchemaVersion);
  out += '}';
  return out;
}

}  // namespace pg_ha::core
