// Standard base64 (RFC 4648, with padding), the encoding etcd's JSON gateway uses for every key
// and value. Decoding is strict: hostile input yields an error, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pg_ha::etcd {

std::string base64_encode(std::string_view raw);

// Accepts only the standard alphabet with correct '=' padding (etcd always pads).
Result<std::string> base64_decode(std::string_view text);

}  // namespace pg_ha::etcd
