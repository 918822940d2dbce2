// Transactions and watch lines: the nested parts of the codec.
#include "etcd/base64.hpp"
#include "etcd/codec.hpp"
#include "etcd/json_reader.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::etcd::codec {

using detail::json;

namespace {

const char* target_name(kv::CompareTarget t) {
  switch (t) {
    case kv::CompareTarget::Version: return "VERSION";
    case kv::CompareTarget::CreateRevision: return "CREATE";
    case kv::CompareTarget::ModRevision: return "MOD";
    case kv::CompareTarget::Value: return "VALUE";
    case kv::CompareTarget::Lease: return "LEASE";
  }
  return "MOD";
}

const char* result_name(kv::CompareResult r) {
  switch (r) {
    case kv::CompareResult::Equal: return "EQUAL";
    case kv::CompareResult::Greater: return "GREATER";
    case kv::CompareResult::Less: return "LESS";
    case kv::CompareResult::NotEqual: return "NOT_EQUAL";
  }
  return "EQUAL";
}

json encode_compare(const kv::Compare& c) {
  json doc = {{"key", base64_encode(c.key)}, {"target", target_name(c.target)}, {"result", result_name(c.result)}};
  if (!c.range_end.empty()) doc["range_end"] = base64_encode(c.range_end);
  // The number goes in the field named after the target (a protobuf oneof).
  switch (c.target) {
    case kv::CompareTarget::Version: doc["version"] = std::to_string(c.number); break;
    case kv::CompareTarget::CreateRevision: doc["create_revision"] = std::to_string(c.number); break;
    case kv::CompareTarget::ModRevision: doc["mod_revision"] = std::to_string(c.number); break;
    case kv::CompareTarget::Lease: doc["lease"] = std::to_string(c.number); break;
    case kv::CompareTarget::Value: doc["value"] = base64_encode(c.value); break;
  }
  return doc;
}

json encode_op(const kv::RequestOp& op) {
  json body = {{"key", base64_encode(op.key)}};
  if (op.prev_kv && op.kind != kv::RequestOp::Kind::Range) body["prev_kv"] = true;
  switch (op.kind) {
    case kv::RequestOp::Kind::Put:
      body["value"] = base64_encode(op.value);
      if (op.lease != 0) body["lease"] = std::to_string(op.lease);
      return json{{"request_put", body}};
    case kv::RequestOp::Kind::DeleteRange:
      if (!op.range_end.empty()) body["range_end"] = base64_encode(op.range_end);
      return json{{"request_delete_range", body}};
    case kv::RequestOp::Kind::Range:
      if (!op.range_end.empty()) body["range_end"] = base64_encode(op.range_end);
      return json{{"request_range", body}};
  }
  return json{{"request_range", body}};
}

kv::ResponseOp decode_response_op(const json& item) {
  if (!item.is_object()) detail::fail("a txn response is not an object");
  kv::ResponseOp op;
  if (const json* r = detail::read_object(item, "response_range")) {
    op.kind = kv::RequestOp::Kind::Range;
    op.kvs = detail::read_kvs(*r, "kvs");
  } else if (const json* p = detail::read_object(item, "response_put")) {
    op.kind = kv::RequestOp::Kind::Put;
    if (const json* prev = detail::read_object(*p, "prev_kv")) op.kvs.push_back(detail::read_kv(*prev));
  } else if (const json* d = detail::read_object(item, "response_delete_range")) {
    op.kind = kv::RequestOp::Kind::DeleteRange;
    op.deleted = detail::read_int(*d, "deleted");
    op.kvs = detail::read_kvs(*d, "prev_kvs");
  } else {
    detail::fail("a txn response has no known operation");
  }
  return op;
}

WatchEvent decode_event(const json& item) {
  if (!item.is_object()) detail::fail("an event is not an object");
  WatchEvent ev;
  std::string type = detail::read_string(item, "type");
  if (type.empty() || type == "PUT") ev.type = EventType::Put;  // PUT is the omitted zero value
  else if (type == "DELETE") ev.type = EventType::Delete;
  else detail::fail("unknown event type");
  const json* kv = detail::read_object(item, "kv");
  if (!kv) detail::fail("an event has no kv");
  ev.kv = detail::read_kv(*kv);
  if (const json* prev = detail::read_object(item, "prev_kv")) ev.prev_kv = detail::read_kv(*prev);
  return ev;
}

}  // namespace

std::string encode_txn(const kv::Txn& txn) {
  json compare = json::array();
  for (const auto& c : txn.compare) compare.push_back(encode_compare(c));
  json success = json::array();
  for (const auto& op : txn.success) success.push_back(encode_op(op));
  json failure = json::array();
  for (const auto& op : txn.failure) failure.push_back(encode_op(op));
  json doc = {{"compare", compare}, {"success", success}, {"failure", failure}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<kv::TxnResult> decode_txn(const std::string& body) {
  return detail::guarded<kv::TxnResult>("txn", [&] {
    json doc = detail::parse_object(body);
    kv::TxnResult r;
    r.revision = detail::header_revision(doc);
    r.succeeded = detail::read_bool(doc, "succeeded");  // omitted when false: not an error
    if (const json* responses = detail::read_array(doc, "responses")) {
      for (const json& item : *responses) r.responses.push_back(decode_response_op(item));
    }
    return r;
  });
}

Result<WatchMessage> decode_watch_line(const std::string& line) {
  return detail::guarded<WatchMessage>("watch", [&] {
    json doc = detail::parse_object(line);
    if (doc.contains("error")) detail::fail("the stream reported an error");
    const json* result = detail::read_object(doc, "result");
    if (!result) detail::fail("no 'result' object");
    WatchMessage m;
    m.header_revision = detail::header_revision(*result);
    m.created = detail::read_bool(*result, "created");
    m.canceled = detail::read_bool(*result, "canceled");
    m.compact_revision = detail::read_int(*result, "compact_revision");
    m.cancel_reason = detail::read_string(*result, "cancel_reason");
    if (const json* events = detail::read_array(*result, "events")) {
      for (const json& item : *events) m.events.push_back(decode_event(item));
    }
    return m;
  });
}

}  // namespace pg_ha::etcd::codec
