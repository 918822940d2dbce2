// The one place that knows etcd 3.4's JSON gateway format (TOOLCHAIN.md): base64 keys and values,
// int64 fields as JSON strings, zero/false fields omitted, gRPC errors as {"error","code"} bodies.
// Every decoder takes untrusted bytes: malformed or hostile input returns Error{Protocol} with a
// clear message; no exception ever leaves this file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "etcd/types.hpp"

namespace pg_ha::etcd::codec {

// Request bodies (the paths are in client.cpp).
std::string encode_range(const RangeRequest& req);
std::string encode_put(const PutRequest& req);
std::string encode_delete(const DeleteRequest& req);
std::string encode_txn(const kv::Txn& txn);
std::string encode_lease_grant(int64_t ttl_s);
std::string encode_lease_id(int64_t id);  // keepalive and revoke
std::string encode_lease_time_to_live(int64_t id);
std::string encode_authenticate(const std::string& user, const std::string& password);
std::string encode_watch_create(const WatchRequest& req);

// Response bodies of HTTP 200 answers.
Result<RangeResult> decode_range(const std::string& body);
Result<PutResult> decode_put(const std::string& body);
Result<DeleteResult> decode_delete(const std::string& body);
Result<kv::TxnResult> decode_txn(const std::string& body);  // succeeded=false is not an error
Result<LeaseGrant> decode_lease_grant(const std::string& body);
// An expired or unknown lease comes back without TTL: reported as ErrorKind::NotFound.
Result<LeaseKeepAlive> decode_lease_keepalive(const std::string& body);
Status decode_lease_revoke(const std::string& body);
// TTL -1 (expired or unknown lease): ErrorKind::NotFound.
Result<LeaseTimeToLive> decode_lease_time_to_live(const std::string& body);
Result<std::string> decode_authenticate(const std::string& body);  // the token
// One line of the watch stream (without its newline).
Result<WatchMessage> decode_watch_line(const std::string& line);

// A gRPC error as the gateway reports it: {"error":"m","message":"m","code":N} for unary calls,
// {"error":{"grpc_code":N,"message":"m",...}} inside streams. nullopt if body is neither.
struct GrpcError {
  int code = 0;  // gRPC status code (5 NotFound, 9 FailedPrecondition, 14 Unavailable, 16 Unauthenticated ...)
  std::string message;
  bool in_stream = false;  // the {"error":{...}} form, sent with HTTP 200 by streaming endpoints
};
std::optional<GrpcError> decode_error_body(const std::string& body);

// gRPC status codes the client acts on.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcFailedPrecondition = 9;
constexpr int kGrpcOutOfRange = 11;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

}  // namespace pg_ha::etcd::codec
