# Phase not_preloaded: without shared_preload_libraries pg_ha refuses to load, with a message
# that says how to fix it.
phase_not_preloaded() {
  local out rc=0
  start_server not_preloaded ""
  sed -i "s/^shared_preload_libraries = 'pg_ha'$/shared_preload_libraries = ''/" "$pgdata/postgresql.conf"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -m fast -w restart -l "$work/not_preloaded/server.log" >/dev/null
  out=$(psql_q -c "CREATE EXTENSION pg_ha" 2>&1) || rc=$?
  if [ $rc -ne 0 ] && grep -q "pg_ha must be loaded via shared_preload_libraries" <<<"$out"; then
    echo "ok: not preloaded: ${out#ERROR:  }"
  else
    echo "FAILED: CREATE EXTENSION without shared_preload_libraries (rc=$rc): $out" >&2; status=1
  fi
  stop_server
}
