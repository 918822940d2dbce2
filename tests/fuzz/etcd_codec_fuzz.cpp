// The etcd gateway decoders (etcd/codec*.cpp, json_reader.cpp) on arbitrary bytes: the first byte
// picks the decoder, the rest is the body. Every decoder must return a value or an error; none
// may crash, leak or throw. Base64 (every key and value) must round-trip.
#include <cstdint>
#include <string>

#include "etcd/base64.hpp"
#include "etcd/codec.hpp"
#include "fuzz_check.hpp"

using namespace pg_ha;
using namespace pg_ha::etcd;

namespace {

// A decoded error message goes into logs and SQL status text: it must stay valid UTF-8.
template <class T>
void check_error(const Result<T>& r) {
  if (!r.ok()) PG_HA_FUZZ_CHECK(fuzz::valid_utf8(r.error().message), "decoder error message is not UTF-8");
}

void base64_round_trip(const std::string& body) {
  auto back = base64_decode(base64_encode(body));
  PG_HA_FUZZ_CHECK(back.ok() && *back == body, "base64 decode(encode(x)) != x");
  auto decoded = base64_decode(body);
  if (!decoded) return;
  auto again = base64_decode(base64_encode(*decoded));
  PG_HA_FUZZ_CHECK(again.ok() && *again == *decoded, "base64 of decoded bytes does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body = fuzz::bytes(data + 1, size - 1);
  switch (data[0] % 13) {
    case 0: check_error(codec::decode_range(body)); break;
    case 1: check_error(codec::decode_put(body)); break;
    case 2: check_error(codec::decode_delete(body)); break;
    case 3: check_error(codec::decode_txn(body)); break;
    case 4: check_error(codec::decode_lease_grant(body)); break;
    case 5: check_error(codec::decode_lease_keepalive(body)); break;
    case 6: check_error(codec::decode_lease_revoke(body)); break;
    case 7: check_error(codec::decode_lease_time_to_live(body)); break;
    case 8: {
      auto token = codec::decode_authenticate(body);
      check_error(token);
      if (token) {   // it goes into an HTTP header
        for (char c : *token) PG_HA_FUZZ_CHECK(c > 0x20 && c < 0x7f, "token with a control or non-ASCII byte");
      }
      break;
    }
    case 9: check_error(codec::decode_watch_line(body)); break;
    case 10: codec::decode_error_body(body); break;
    case 11: base64_round_trip(body); break;
    default: {   // the client tries the error form first, then the answer's own decoder
      if (!codec::decode_error_body(body)) check_error(codec::decode_txn(body));
    }
  }
  return 0;
}
