// The blocking etcd access a backend needs for a control function: one linearizable read of the
// cluster's keys and one transaction. No lock is held while it runs; it stops when the query is
// cancelled or the backend is terminated (PostgreSQL's interrupt flags, never
// CHECK_FOR_INTERRUPTS inside C++).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/kv.hpp"
#include "common/result.hpp"
#include "pg/gucs.hpp"

namespace pg_ha::sql_api {

class EtcdSession {
 public:
  explicit EtcdSession(const pg::Settings& settings);
  ~EtcdSession();
  EtcdSession(const EtcdSession&) = delete;
  EtcdSession& operator=(const EtcdSession&) = delete;

  Result<kv::PrefixSnapshot> read_prefix(const std::string& prefix);
  Result<kv::TxnResult> txn(const kv::Txn& txn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace pg_ha::sql_api
