// How to reach etcd. Filled by the worker (from GUCs) or the sidecar (from its config file).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pg_ha::etcd {

struct TlsOptions {
  std::string ca_file;    // PEM bundle that signs the etcd server certificates; empty = system CAs
  std::string cert_file;  // client certificate (PEM) when etcd requires --client-cert-auth
  std::string key_file;   // its private key (PEM)
  // Peer and host verification are always on: there is deliberately no switch to turn them off.
};

struct Options {
  std::vector<std::string> endpoints;  // "http://host:port" or "https://host:port"
  int64_t request_timeout_ms = 2000;   // whole request, every endpoint and retry included
  int64_t connect_timeout_ms = 1000;   // one TCP (+TLS) connect to one endpoint
  std::string user;                    // empty = etcd auth disabled
  std::string password;                // read by the caller from a file; never logged or echoed
  // A user and password (and the token they buy) sent to an http:// endpoint travel in clear
  // text: refused unless the operator opts in (pg_ha.etcd_allow_insecure_auth, sidecar
  // etcd_allow_insecure_auth). See insecure_auth_problem().
  bool allow_insecure_auth = false;
  TlsOptions tls;
  // Checked by the blocking calls at least every 20 ms: return true to abort (ErrorKind::Interrupted).
  // The worker passes a check of its SIGTERM flag. Not called by the non-blocking engine.
  std::function<bool()> interrupt;
};

// The one rule on credentials and transport, checked where settings are loaded (worker, SQL
// functions, sidecar) and again by Client::create: "" when acceptable, else why not.
inline std::string insecure_auth_problem(const std::vector<std::string>& endpoints, const std::string& user,
                                         bool allow_insecure_auth) {
  if (user.empty() || allow_insecure_auth) return "";
  for (const std::string& e : endpoints) {
    if (e.rfind("http://", 0) == 0) {
      return "etcd user \"" + user + "\" would send its password in clear text to " + e +
             ": use https:// endpoints, or opt in with etcd_allow_insecure_auth";
    }
  }
  return "";
}

}  // namespace pg_ha::etcd
