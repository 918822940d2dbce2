// The records pg_ha keeps in etcd and on disk (core/schema.cpp), the cluster config
// (core/config.cpp) and the worker/sidecar request files (core/sidecar_channel.cpp) on arbitrary
// bytes: the first byte picks the decoder. A decoder returns a value or an error, never a crash;
// a decoded value re-encodes to a record its own decoder accepts, and encoding that again gives
// the same bytes (encode . decode is a fixpoint).
#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "core/schema.hpp"
#include "core/sidecar_channel.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;
using namespace pg_ha::core;

namespace {

template <class Decode, class Encode>
void fixpoint(const std::string& text, Decode decode, Encode encode) {
  auto first = decode(text);
  if (!first) {
    PG_HA_FUZZ_CHECK(fuzz::valid_utf8(first.error().message), "decode error message is not UTF-8");
    return;
  }
  std::string encoded = encode(*first);
  auto second = decode(encoded);
  PG_HA_FUZZ_CHECK(second.ok(), "a decoded record, re-encoded, is refused by its own decoder");
  PG_HA_FUZZ_CHECK(encode(*second) == encoded, "encode(decode(encode(v))) != encode(v)");
}

void cluster_config(const std::string& text) {
  auto first = parse_cluster_config(text);
  if (!first) return;
  Status valid = validate_cluster_config(*first);
  std::string encoded = encode_cluster_config(*first);
  auto second = parse_cluster_config(encoded);
  PG_HA_FUZZ_CHECK(second.ok(), "an encoded config is refused by parse_cluster_config");
  PG_HA_FUZZ_CHECK(encode_cluster_config(*second) == encoded, "config encode/parse is not a fixpoint");
  PG_HA_FUZZ_CHECK(validate_cluster_config(*second).ok() == valid.ok(), "validation changed across a round trip");
  if (valid) {   // a valid config leaves a write window inside the lease
    TimeMs deadline = write_deadline_after_keepalive(*first, 1000, first->ttl_s);
    PG_HA_FUZZ_CHECK(deadline == 0 || (deadline > 1000 && deadline <= 1000 + first->ttl_s * 1000),
                     "write deadline outside the lease");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text = fuzz::bytes(data + 1, size - 1);
  auto records = [](const auto& r) { return core::encode(r); };
  switch (data[0] % 11) {
    case 0: fixpoint(text, decode_member, records); break;
    case 1: fixpoint(text, decode_leader, records); break;
    case 2: fixpoint(text, decode_state, records); break;
    case 3: fixpoint(text, decode_optime, records); break;
    case 4: fixpoint(text, decode_report, records); break;
    case 5: fixpoint(text, decode_history, records); break;
    case 6: fixpoint(text, decode_identity, records); break;
    case 7: fixpoint(text, decode_initialize, records); break;
    // The worker/sidecar request channel: files in state_dir.
    case 8: fixpoint(text, decode_sidecar_request, encode_sidecar_request); break;
    case 9: fixpoint(text, decode_sidecar_result, encode_sidecar_result); break;
    default: cluster_config(text);
  }
  return 0;
}
