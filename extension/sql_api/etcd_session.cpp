#include "sql_api/etcd_session.hpp"

#include <memory>
#include <utility>

#include "etcd/client.hpp"
#include "etcd/transport.hpp"
#include "pg/interrupts.hpp"

namespace pg_ha::sql_api {

// One blocking client per call: a control function is rare, and a fresh client carries no state
// (token, preferred endpoint) that could be stale.
struct EtcdSession::Impl {
  Result<std::unique_ptr<etcd::Client>> client = make_error(ErrorKind::Internal, "not connected");
};

namespace {

Result<std::unique_ptr<etcd::Client>> make_client(const pg::Settings& s) {
  static bool curl_ready = false;   // curl_global_init once per backend process
  if (!curl_ready) {
    Status init = etcd::global_init();
    if (!init.ok()) return init.error();
    curl_ready = true;
  }
  Result<etcd::Options> o = pg::etcd_options(s);
  if (!o.ok()) return o.error();
  o->interrupt = [] { return pg::backend_interrupt_pending(); };   // cancel, statement_timeout, terminate
  return etcd::Client::create(std::move(*o));
}

}  // namespace

EtcdSession::EtcdSession(const pg::Settings& settings) : impl_(new Impl{make_client(settings)}) {}

EtcdSession::~EtcdSession() { delete impl_; }

Result<kv::PrefixSnapshot> EtcdSession::read_prefix(const std::string& prefix) {
  if (!impl_->client.ok()) return impl_->client.error();
  Result<etcd::RangeResult> r = (*impl_->client)->range(etcd::RangeRequest::prefix(prefix));
  if (!r.ok()) return r.error();
  return kv::PrefixSnapshot{r->revision, std::move(r->kvs)};
}

Result<kv::TxnResult> EtcdSession::txn(const kv::Txn& txn) {
  if (!impl_->client.ok()) return impl_->client.error();
  return (*impl_->client)->txn(txn);
}

}  // namespace pg_ha::sql_api
