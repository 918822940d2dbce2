// Expected failures as values (DESIGN.md §3.4): etcd down, timeouts, bad JSON are returned, never
// thrown through callers. Pure C++17, usable on both sides of the PostgreSQL boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pg_ha {

enum class ErrorKind {
  Unavailable,    // could not reach any endpoint (connection refused, DNS, TLS handshake)
  Timeout,        // the request's deadline passed
  Interrupted,    // the caller's interrupt check asked us to stop
  Protocol,       // the peer answered something we cannot parse or that breaks its contract
  Auth,           // authentication or permission failure
  Compacted,      // a watch asked for a revision etcd has compacted away: re-read state
  NotFound,       // a lease or key that must exist does not
  Invalid,        // bad input from a user or a config file
  Internal,       // a bug: should never happen
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;  // complete sentence a DBA can act on; never contains a secret
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Status(Unit{}); }

}  // namespace pg_ha
