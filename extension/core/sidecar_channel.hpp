// The durable request channel between the worker (inside PostgreSQL) and the sidecar. Both sides
// write their file with temp file + fsync + rename, so each file is always whole:
//   <state_dir>/sidecar.request.json  written by the worker: the request that should be carried out
//   <state_dir>/sidecar.result.json   written by the sidecar: the outcome of the last request it ran
// A request is pending while its id differs from the result's id. Requests are idempotent by id:
// a sidecar that restarts mid-request runs it again from the start.
#pragma once

#include <string>

#include "common/result.hpp"
#include "core/decision.hpp"

namespace pg_ha::core {

constexpr const char* kSidecarRequestFile = "sidecar.request.json";
constexpr const char* kSidecarResultFile = "sidecar.result.json";

struct SidecarResult {
  std::string id;
  bool ok = false;
  std::string message;
  int64_t finished_unix_ms = 0;
};

std::string encode_sidecar_request(const SidecarRequest& r);
Result<SidecarRequest> decode_sidecar_request(const std::string& json);
std::string encode_sidecar_result(const SidecarResult& r);
Result<SidecarResult> decode_sidecar_result(const std::string& json);

}  // namespace pg_ha::core
