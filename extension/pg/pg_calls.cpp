#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pg/pg_calls.hpp"  // last: pulls in postgres.h

extern "C" {
#include "access/htup_details.h"  // heap_form_tuple
#include "catalog/pg_type.h"      // type OIDs
#include "funcapi.h"              // get_call_result_type, InitMaterializedSRF
#include "miscadmin.h"            // GetUserId
#include "storage/lwlock.h"       // LWLockAcquire
#include "utils/acl.h"            // has_privs_of_role, get_role_oid
#include "utils/array.h"          // construct_array
#include "utils/builtins.h"       // cstring_to_text, text_to_cstring
#include "utils/guc.h"            // ProcessConfigFile
#include "utils/jsonb.h"          // jsonb_in, jsonb_out
#include "utils/tuplestore.h"     // tuplestore_putvalues
}

namespace pg_ha::pg {
namespace {

// Small C-style helpers: several PostgreSQL steps that belong together, guarded as one call.
Datum jsonb_in_c(const char* text) {
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

char* jsonb_out_c(Datum value) {
  return DatumGetCString(DirectFunctionCall1(jsonb_out, value));
}

char* text_arg_c(Datum value) { return text_to_cstring(DatumGetTextPP(value)); }

TupleDesc result_tupdesc_c(FunctionCallInfo fcinfo) {
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("pg_ha: function returning record called in a context that cannot accept it")));
  return BlessTupleDesc(desc);
}

Datum form_tuple_c(TupleDesc desc, Datum* values, bool* nulls) {
  return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

void init_materialized_c(FunctionCallInfo fcinfo) { InitMaterializedSRF(fcinfo, 0); }

void put_row_c(ReturnSetInfo* rsinfo, Datum* values, bool* nulls) {
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

bool has_privs_c(const char* role_name) {
  Oid role = get_role_oid(role_name, true);
  return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
}

Datum text_array_c(Datum* elements, int count) {
  return PointerGetDatum(construct_array(elements, count, TEXTOID, -1, false, TYPALIGN_INT));
}

bool is_superuser_c() { return superuser(); }

void reload_config_c() { ProcessConfigFile(PGC_SIGHUP); }

void lwlock_acquire_c(LWLock* lock, bool exclusive) { LWLockAcquire(lock, exclusive ? LW_EXCLUSIVE : LW_SHARED); }

}  // namespace

Datum text_datum(const std::string& value) {
  return PointerGetDatum(guard_call(cstring_to_text_with_len, value.data(), static_cast<int>(value.size())));
}
Datum jsonb_datum(const std::string& json) { return guard_call(jsonb_in_c, json.c_str()); }
std::string text_arg(Datum value) { return guard_call(text_arg_c, value); }
std::string jsonb_text(Datum value) { return guard_call(jsonb_out_c, value); }
Datum text_array_datum(const std::vector<std::string>& values) {
  std::vector<Datum> elements;
  for (const std::string& v : values) elements.push_back(text_datum(v));
  return guard_call(text_array_c, elements.data(), static_cast<int>(elements.size()));
}
TupleDesc result_tupdesc(FunctionCallInfo fcinfo) { return guard_call(result_tupdesc_c, fcinfo); }
Datum form_tuple(TupleDesc desc, Datum* values, bool* nulls) { return guard_call(form_tuple_c, desc, values, nulls); }
ReturnSetInfo* init_materialized(FunctionCallInfo fcinfo) {
  guard_call(init_materialized_c, fcinfo);
  return reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
}
void put_row(ReturnSetInfo* rsinfo, Datum* values, bool* nulls) { guard_call(put_row_c, rsinfo, values, nulls); }
bool current_user_has_privs_of(const std::string& role_name) { return guard_call(has_privs_c, role_name.c_str()); }
bool current_user_is_superuser() { return guard_call(is_superuser_c); }
void reload_config_file() { guard_call(reload_config_c); }
void lwlock_acquire(LWLock* lock, bool exclusive) { guard_call(lwlock_acquire_c, lock, exclusive); }
void lwlock_release(LWLock* lock) { LWLockRelease(lock); }

}  // namespace pg_ha::pg

namespace pg_ha::pg {
namespace {
// Every line carries the "pg_ha: " prefix once, whether or not the caller wrote it.
void log_c(int level, const char* message) {
  bool prefixed = strncmp(message, "pg_ha: ", 7) == 0;
  ereport(level, (errmsg_internal("%s%s", prefixed ? "" : "pg_ha: ", message)));
}
}  // namespace

void log_info(const std::string& message) { guard_call(log_c, LOG, message.c_str()); }
void log_warning(const std::string& message) { guard_call(log_c, WARNING, message.c_str()); }

}  // namespace pg_ha::pg
