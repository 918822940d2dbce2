#include "core/sidecar_channel.hpp"

#include "core/json_fields.hpp"
#include "core/schema.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::core {

using json_fields::json;
using json_fields::read;

const char* sidecar_request_kind_name(SidecarRequest::Kind kind) {
  switch (kind) {
    case SidecarRequest::Kind::Demote: return "demote";
    case SidecarRequest::Kind::Rewind: return "rewind";
    case SidecarRequest::Kind::Reclone: return "reclone";
    case SidecarRequest::Kind::Restart: return "restart";
    case SidecarRequest::Kind::ReleaseLease: return "release_lease";
  }
  return "unknown";
}

static bool kind_from_name(const std::string& name, SidecarRequest::Kind* out) {
  for (auto k : {SidecarRequest::Kind::Demote, SidecarRequest::Kind::Rewind, SidecarRequest::Kind::Reclone,
                 SidecarRequest::Kind::Restart, SidecarRequest::Kind::ReleaseLease}) {
    if (name == sidecar_request_kind_name(k)) {
      *out = k;
      return true;
    }
  }
  return false;
}

std::string encode_sidecar_request(const SidecarRequest& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"id", r.id}, {"kind", sidecar_request_kind_name(r.kind)},
              {"primary", r.primary}, {"primary_host", r.primary_host}, {"primary_port", r.primary_port},
              {"reason", r.reason}});
}

Result<SidecarRequest> decode_sidecar_request(const std::string& text) {
  auto parsed = json_fields::parse_object(text, "sidecar request");
  if (!parsed.ok()) return parsed.error();
  const json& j = *parsed;
  if (Status v = json_fields::check_version(j, "sidecar request"); !v.ok()) return v.error();
  SidecarRequest r;
  std::string kind;
  for (const Status& s : {read(j, "id", &r.id), read(j, "kind", &kind), read(j, "primary", &r.primary),
                          read(j, "primary_host", &r.primary_host), read(j, "primary_port", &r.primary_port, 0, 65535),
                          read(j, "reason", &r.reason)}) {
    if (!s.ok()) return make_error(ErrorKind::Protocol, "sidecar request: " + s.error().message);
  }
  if (r.id.empty()) return make_error(ErrorKind::Protocol, "sidecar request: no \"id\"");
  if (!kind_from_name(kind, &r.kind)) return make_error(ErrorKind::Protocol, "sidecar request: unknown kind \"" + kind + "\"");
  // The primary's address reaches pg_basebackup and pg_rewind command lines: checked like a member's.
  if (!r.primary.empty() && !validate_node_name(r.primary).ok())
    return make_error(ErrorKind::Protocol, "sidecar request: field \"primary\" is not a valid node name");
  if (!r.primary_host.empty() || r.primary_port != 0) {
    for (const Status& s : {validate_host(r.primary_host), validate_port(r.primary_port)})
      if (!s.ok()) return make_error(ErrorKind::Protocol, "sidecar request: " + s.error().message);
  }
  return r;
}

std::string encode_sidecar_result(const SidecarResult& r) {
  return json_fields::dump(json{{"version", kSchemaVersion}, {"id", r.id}, {"ok", r.ok}, {"message", r.message},
              {"finished_unix_ms", r.finished_unix_ms}});
}

Result<SidecarResult> decode_sidecar_result(const std::string& text) {
  auto parsed = json_fields::parse_object(text, "sidecar result");
  if (!parsed.ok()) return parsed.error();
  const json& j = *parsed;
  if (Status v = json_fields::check_version(j, "sidecar result"); !v.ok()) return v.error();
  SidecarResult r;
  for (const Status& s : {read(j, "id", &r.id), read(j, "ok", &r.ok), read(j, "message", &r.message),
                          read(j, "finished_unix_ms", &r.finished_unix_ms, INT64_MIN, INT64_MAX)}) {
    if (!s.ok()) return make_error(ErrorKind::Protocol, "sidecar result: " + s.error().message);
  }
  return r;
}

}  // namespace pg_ha::core
