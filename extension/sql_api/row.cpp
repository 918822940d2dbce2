#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sql_api/row.hpp"  // last: pulls in postgres.h

extern "C" {
#include "datatype/timestamp.h"  // POSTGRES_EPOCH_JDATE, USECS_PER_SEC
#include "utils/pg_lsn.h"        // LSNGetDatum
#include "utils/timestamp.h"     // TimestampTzGetDatum
}

namespace pg_ha::sql_api {

Row::Row(TupleDesc desc) : desc_(desc), values_(desc->natts, 0), nulls_(new bool[desc->natts]) {
  for (int i = 0; i < desc->natts; ++i) nulls_[i] = true;
}

void Row::set(int column, Datum value) {
  if (column < 0 || column >= desc_->natts) throw std::logic_error("result column out of range");
  values_[column] = value;
  nulls_[column] = false;
}

void Row::text(int column, const std::string& value) { set(column, pg::text_datum(value)); }

void Row::text_or_null(int column, const std::string& value) {
  if (!value.empty()) text(column, value);
}

void Row::boolean(int column, bool value) { set(column, BoolGetDatum(value)); }

void Row::int8(int column, std::optional<int64_t> value) {
  if (value) set(column, Int64GetDatum(*value));
}

void Row::int4(int column, int32_t value) { set(column, Int32GetDatum(value)); }

void Row::lsn(int column, std::optional<uint64_t> value) {
  if (value) set(column, LSNGetDatum(*value));
}

void Row::jsonb(int column, const std::string& json) { set(column, pg::jsonb_datum(json)); }

void Row::timestamptz_from_unix_ms(int column, int64_t unix_ms) {
  const int64_t unix_to_pg_usecs = int64_t{POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE} * SECS_PER_DAY * USECS_PER_SEC;
  set(column, TimestampTzGetDatum(unix_ms * 1000 - unix_to_pg_usecs));
}

void Row::text_array(int column, const std::vector<std::string>& values) {
  set(column, pg::text_array_datum(values));
}

}  // namespace pg_ha::sql_api
