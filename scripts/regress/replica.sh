# Phase replica: a standalone hot standby streaming from a standalone primary: the replica paths
# of the status functions and of the worker's observation (WAL receiver, replay, timeline).
phase_replica() {
  start_server replica_primary "wal_level = replica"
  local primary_data=$pgdata primary_port=$port primary_sock=$sock
  wait_for_worker || { status=1; stop_server; return; }
  psql_q -c "CREATE DATABASE pg_ha_regression" && psql_q -d pg_ha_regression -c "CREATE EXTENSION pg_ha"
  start_standby_of "$primary_sock" "$primary_port" || { status=1; stop_server; return; }
  run_schedule replica replica_schedule || status=1
  stop_server
  pgdata=$primary_data port=$primary_port sock=$primary_sock
  stop_server
}

# start_standby_of <socket dir> <port>: pg_basebackup of that server into $work/replica, started
# as its streaming standby regress2 (the current server from then on).
start_standby_of() {
  local primary_sock=$1 primary_port=$2 replica="$work/replica"
  mkdir -p "$replica/sock"; chown -R postgres: "$replica" 2>/dev/null || true
  as_postgres "$bindir/pg_basebackup" -h "$primary_sock" -p "$primary_port" -U postgres -D "$replica/data" -R -X stream \
    >"$replica/basebackup.log" 2>&1 || { echo "FAILED: pg_basebackup" >&2; return 1; }
  port=$(free_port); sock="$replica/sock"
  cat >>"$replica/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$sock'
pg_ha.node_name = 'regress2'
primary_conninfo = 'host=$primary_sock port=$primary_port user=postgres application_name=regress2'
CONF
  pgdata="$replica/data"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -l "$replica/server.log" -w -t 60 start >/dev/null
}
