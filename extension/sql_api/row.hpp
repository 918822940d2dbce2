// One result row, filled from C++ values and turned into Datums through the guarded calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/pg_calls.hpp"  // last: pulls in postgres.h

namespace pg_ha::sql_api {

class Row {
 public:
  explicit Row(TupleDesc desc);
  void text(int column, const std::string& value);
  void text_or_null(int column, const std::string& value);   // "" -> NULL
  void boolean(int column, bool value);
  void int8(int column, std::optional<int64_t> value);
  void int4(int column, int32_t value);
  void lsn(int column, std::optional<uint64_t> value);
  void jsonb(int column, const std::string& json);
  void timestamptz_from_unix_ms(int column, int64_t unix_ms);
  void text_array(int column, const std::vector<std::string>& values);
  Datum form() { return pg::form_tuple(desc_, values_.data(), nulls_.get()); }
  void put(ReturnSetInfo* rsinfo) { pg::put_row(rsinfo, values_.data(), nulls_.get()); }

 private:
  void set(int column, Datum value);
  TupleDesc desc_;
  std::vector<Datum> values_;
  std::unique_ptr<bool[]> nulls_;   // all NULL until set
};

}  // namespace pg_ha::sql_api
