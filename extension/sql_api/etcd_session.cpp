#include "sql_api/etcd_session.hpp"

#include "pg/interrupts.hpp"

namespace pg_ha::sql_api {

// TODO(etcd): connect to pg_ha::etcd's blocking client once it lands (endpoints, user + password
// from read_etcd_password(), TLS files, timeout pg_ha.etcd_timeout_ms, interrupt check
// pg::backend_interrupt_pending). Until then every call reports etcd as unavailable.
struct EtcdSession::Impl {
  pg::Settings settings;
};

EtcdSession::EtcdSession(const pg::Settings& settings) : impl_(new Impl{settings}) {}

EtcdSession::~EtcdSession() { delete impl_; }

Result<PrefixRead> EtcdSession::read_prefix(const std::string&) {
  return make_error(ErrorKind::Unavailable, "this build of pg_ha has no etcd client");
}

Result<kv::TxnResult> EtcdSession::txn(const kv::Txn&) {
  return make_error(ErrorKind::Unavailable, "this build of pg_ha has no etcd client");
}

}  // namespace pg_ha::sql_api
