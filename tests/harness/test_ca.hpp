// A throw-away certificate authority made with openssl at run time (nothing secret is checked
// in): a CA, a server certificate for 127.0.0.1/localhost and a client certificate.
#pragma once

#include <string>

namespace pg_ha::test {

struct TestCa {
  std::string ca_cert;
  std::string server_cert, server_key;  // SAN IP:127.0.0.1, DNS:localhost
  std::string client_cert, client_key;  // CN=root (etcd maps a client cert CN to a user)

  // Writes everything under dir/<name>/. Throws std::runtime_error (with openssl's log) on failure.
  static TestCa create(const std::string& dir, const std::string& name = "ca");
};

}  // namespace pg_ha::test
