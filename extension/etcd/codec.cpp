#include "etcd/codec.hpp"

#include "etcd/base64.hpp"
#include "etcd/json_reader.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd::codec {

using detail::json;

namespace {

// Replace invalid UTF-8 instead of throwing: user names and passwords come from config files.
std::string dump(const json& doc) { return doc.dump(-1, ' ', false, json::error_handler_t::replace); }

void put_range_end(json& doc, const std::string& range_end) {
  if (!range_end.empty()) doc["range_end"] = base64_encode(range_end);
}

}  // namespace

std::string encode_range(const RangeRequest& req) {
  json doc = {{"key", base64_encode(req.key)}};
  put_range_end(doc, req.range_end);
  if (req.revision != 0) doc["revision"] = std::to_string(req.revision);
  if (req.limit != 0) doc["limit"] = std::to_string(req.limit);
  if (req.serializable) doc["serializable"] = true;
  if (req.keys_only) doc["keys_only"] = true;
  if (req.count_only) doc["count_only"] = true;
  return dump(doc);
}

std::string encode_put(const PutRequest& req) {
  json doc = {{"key", base64_encode(req.key)}, {"value", base64_encode(req.value)}};
  if (req.lease != 0) doc["lease"] = std::to_string(req.lease);
  if (req.prev_kv) doc["prev_kv"] = true;
  if (req.ignore_lease) doc["ignore_lease"] = true;
  return dump(doc);
}

std::string encode_delete(const DeleteRequest& req) {
  json doc = {{"key", base64_encode(req.key)}};
  put_range_end(doc, req.range_end);
  if (req.prev_kv) doc["prev_kv"] = true;
  return dump(doc);
}

std::string encode_lease_grant(int64_t ttl_s) { return dump(json{{"TTL", std::to_string(ttl_s)}}); }

std::string encode_lease_id(int64_t id) { return dump(json{{"ID", std::to_string(id)}}); }

std::string encode_lease_time_to_live(int64_t id) {
  return dump(json{{"ID", std::to_string(id)}, {"keys", true}});
}

std::string encode_authenticate(const std::string& user, const std::string& password) {
  return dump(json{{"name", user}, {"password", password}});
}

std::string encode_watch_create(const WatchRequest& req) {
  json create = {{"key", base64_encode(req.key)}};
  put_range_end(create, req.range_end);
  if (req.start_revision != 0) create["start_revision"] = std::to_string(req.start_revision);
  if (req.prev_kv) create["prev_kv"] = true;
  return dump(json{{"create_request", create}});
}

Result<RangeResult> decode_range(const std::string& body) {
  return detail::guarded<RangeResult>("range", [&] {
    json doc = detail::parse_object(body);
    RangeResult r;
    r.revision = detail::header_revision(doc);
    r.kvs = detail::read_kvs(doc, "kvs");
    r.count = detail::read_int(doc, "count");
    r.more = detail::read_bool(doc, "more");
    return r;
  });
}

Result<PutResult> decode_put(const std::string& body) {
  return detail::guarded<PutResult>("put", [&] {
    json doc = detail::parse_object(body);
    PutResult r;
    r.revision = detail::header_revision(doc);
    if (const json* prev = detail::read_object(doc, "prev_kv")) r.prev_kv = detail::read_kv(*prev);
    return r;
  });
}

Result<DeleteResult> decode_delete(const std::string& body) {
  return detail::guarded<DeleteResult>("delete", [&] {
    json doc = detail::parse_object(body);
    DeleteResult r;
    r.revision = detail::header_revision(doc);
    r.deleted = detail::read_int(doc, "deleted");
    r.prev_kvs = detail::read_kvs(doc, "prev_kvs");
    return r;
  });
}

Result<LeaseGrant> decode_lease_grant(const std::string& body) {
  return detail::guarded<LeaseGrant>("lease grant", [&] {
    json doc = detail::parse_object(body);
    std::string error = detail::read_string(doc, "error");
    if (!error.empty()) detail::fail("etcd refused the lease: " + error);
    LeaseGrant r;
    r.id = detail::read_int(doc, "ID");
    r.ttl_s = detail::read_int(doc, "TTL");
    if (r.id == 0) detail::fail("no lease ID");
    return r;
  });
}

Result<LeaseKeepAlive> decode_lease_keepalive(const std::string& body) {
  auto decoded = detail::guarded<LeaseKeepAlive>("lease keep-alive", [&] {
    json doc = detail::parse_object(body);
    // A streaming endpoint: the answer is wrapped in "result"; errors come as {"error":{...}}.
    if (doc.contains("error")) detail::fail("the stream reported an error");
    const json* result = detail::read_object(doc, "result");
    if (!result) detail::fail("no 'result' object");
    LeaseKeepAlive r;
    r.id = detail::read_int(*result, "ID");
    r.ttl_s = detail::read_int(*result, "TTL");
    r.revision = detail::header_revision(*result);
    return r;
  });
  if (decoded && decoded->ttl_s <= 0) {
    return make_error(ErrorKind::NotFound, "etcd lease " + std::to_string(decoded->id) +
                                               " has expired or does not exist");
  }
  return decoded;
}

Status decode_lease_revoke(const std::string& body) {
  auto decoded = detail::guarded<Unit>("lease revoke", [&] {
    detail::parse_object(body);
    return Unit{};
  });
  return decoded;
}

Result<LeaseTimeToLive> decode_lease_time_to_live(const std::string& body) {
  auto decoded = detail::guarded<LeaseTimeToLive>("lease time-to-live", [&] {
    json doc = detail::parse_object(body);
    LeaseTimeToLive r;
    r.id = detail::read_int(doc, "ID");
    r.ttl_s = detail::read_int(doc, "TTL");
    r.granted_ttl_s = detail::read_int(doc, "grantedTTL");
    r.revision = detail::header_revision(doc);
    if (const json* keys = detail::read_array(doc, "keys")) {
      for (const json& k : *keys) {
        if (!k.is_string()) detail::fail("a lease key is not a string");
        auto key = base64_decode(k.get<std::string>());
        if (!key) detail::fail("a lease key: " + key.error().message);
        r.keys.push_back(std::move(key.value()));
      }
    }
    return r;
  });
  if (decoded && decoded->ttl_s < 0) {
    return make_error(ErrorKind::NotFound, "etcd lease " + std::to_string(decoded->id) +
                                               " has expired or does not exist");
  }
  return decoded;
}

Result<std::string> decode_authenticate(const std::string& body) {
  return detail::guarded<std::string>("authenticate", [&] {
    json doc = detail::parse_object(body);
    std::string token = detail::read_string(doc, "token");
    if (token.empty()) detail::fail("no token");
    // The token goes into an HTTP header: refuse anything that could split or corrupt it.
    for (char c : token) {
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) detail::fail("token has a control or non-ASCII character");
    }
    return token;
  });
}

std::optional<GrpcError> decode_error_body(const std::string& body) {
  auto decoded = detail::guarded<GrpcError>("error", [&] {
    json doc = detail::parse_object(body);
    auto it = doc.find("error");
    if (it == doc.end()) detail::fail("no error field");
    GrpcError e;
    if (it->is_object()) {  // stream form
      e.in_stream = true;
      e.code = static_cast<int>(detail::read_int(*it, "grpc_code"));
      e.message = detail::read_string(*it, "message");
    } else {
      e.code = static_cast<int>(detail::read_int(doc, "code"));
      e.message = detail::read_string(doc, "message");
      if (e.message.empty()) e.message = detail::read_string(doc, "error");
    }
    return e;
  });
  if (!decoded) return std::nullopt;
  return decoded.value();
}

}  // namespace pg_ha::etcd::codec
