// A tiny blocking HTTP client for the harness itself (health checks, admin calls), separate from
// the etcd client under test so that a bug there cannot hide behind the harness.
#pragma once

#include <string>

namespace pg_ha::test {

struct HttpResult {
  bool ok = false;        // transport succeeded
  long status = 0;
  std::string body;
  std::string error;
};

struct HttpTls {
  std::string ca_file, cert_file, key_file;
};

// body empty = GET, else POST application/json. extra_header: one "Name: value" line or empty.
HttpResult http_request(const std::string& url, const std::string& body, int timeout_ms = 2000,
                        const HttpTls& tls = {}, const std::string& extra_header = "");

}  // namespace pg_ha::test
