#include "common/result.hpp"

namespace pg_ha {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Interrupted: return "interrupted";
    case ErrorKind::Protocol: return "protocol";
    case ErrorKind::Auth: return "auth";
    case ErrorKind::Compacted: return "compacted";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Invalid: return "invalid";
    case ErrorKind::Internal: return "internal";
  }
  return "unknown";
}

}  // namespace pg_ha
