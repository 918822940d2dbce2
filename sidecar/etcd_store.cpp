// Store over the shared blocking etcd client. Used from the main thread only (the client is not
// thread-safe); the HTTP threads never talk to etcd.
#include <fstream>
#include <sstream>

#include "etcd/client.hpp"
#include "process.hpp"
#include "store.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

class EtcdStore : public Store {
 public:
  explicit EtcdStore(std::unique_ptr<etcd::Client> client) : client_(std::move(client)) {}
  Result<std::optional<kv::KeyValue>> get(const std::string& key) override { return client_->get(key); }
  Result<kv::TxnResult> txn(const kv::Txn& txn) override { return client_->txn(txn); }
  Status lease_revoke(int64_t lease_id) override { return client_->lease_revoke(lease_id); }
  Result<int64_t> lease_grant(int64_t ttl_s) override {
    auto g = client_->lease_grant(ttl_s);
    if (!g) return g.error();
    return g->id;
  }
  Status lease_keepalive(int64_t lease_id) override {
    auto k = client_->lease_keepalive(lease_id);
    if (!k) return k.error();
    return ok_status();
  }

 private:
  std::unique_ptr<etcd::Client> client_;
};

std::vector<std::string> split_endpoints(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> make_etcd_store(const SidecarConfig& config) {
  etcd::Options options;
  options.endpoints = split_endpoints(config.etcd_endpoints);
  options.user = config.etcd_user;
  options.allow_insecure_auth = config.etcd_allow_insecure_auth;
  if (!config.etcd_password_file.empty()) {
    auto text = read_whole_file(config.etcd_password_file);
    if (!text) return make_error(ErrorKind::Invalid, "cannot read etcd_password_file " + config.etcd_password_file);
    std::string pw = *text;
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    options.password = pw;
  }
  options.tls.ca_file = config.etcd_ca_file;
  options.tls.cert_file = config.etcd_cert_file;
  options.tls.key_file = config.etcd_key_file;
  options.interrupt = [] { return stop_requested(); };
  auto client = etcd::Client::create(std::move(options));
  if (!client) return client.error();
  return std::unique_ptr<Store>(std::make_unique<EtcdStore>(std::move(*client)));
}

}  // namespace pg_ha::sidecar
