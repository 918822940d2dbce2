#!/usr/bin/env bash
# pg_regress suite for the pg_ha SQL API on a real, throw-away PostgreSQL 15 server.
#   scripts/run-regress.sh <build-dir>
# Installs pg_ha.so, pg_ha.control and the SQL script from <build-dir> into PostgreSQL's own
# directories, then runs each phase on a fresh server with shared_preload_libraries = pg_ha:
#   not_preloaded  CREATE EXTENSION without shared_preload_libraries is refused clearly
#   standalone     no etcd configured (regress/standalone_schedule)
#   replica        a standalone hot standby of a standalone primary (regress/replica_schedule)
#   fenced         etcd configured but hanging: a primary that may not write (regress/fenced_schedule)
#   etcd           a real etcd on free loopback ports, when pg_ha was built with the etcd client
#                  (regress/etcd_*_schedule, plus checks of fence timing, session termination,
#                  lease release on shutdown and a kill -9 of the postmaster)
#   cannot_run     on that etcd with authentication: a node that cannot run says why, and retries
# PG_HA_KEEP_REGRESS=1 keeps the work directory (data, logs, results) for inspection;
# PG_HA_REGRESS_PHASES="etcd" runs only the phases named.
# Runs as root (CI) or as any user who may write PostgreSQL's directories; the server itself runs
# as `postgres`. Stops everything it started, also on failure. Exit code: 0 when every phase passed.
set -euo pipefail

build=${1:?usage: run-regress.sh <build-dir>}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
bindir=$(pg_config --bindir)
[ -x /usr/lib/postgresql/15/bin/initdb ] && bindir=/usr/lib/postgresql/15/bin
pg_regress="$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

install_module() {
  install -m 0755 "$build/extension/pg_ha.so" "$(pg_config --pkglibdir)/pg_ha.so"
  install -m 0644 "$top/pg_ha.control" "$top/sql/pg_ha--0.1.sql" "$(pg_config --sharedir)/extension/"
}

work=$(mktemp -d /tmp/pg_ha_regress.XXXXXX)
chmod 0755 "$work"
pgdata="" etcd_pid="" blackhole_pid=""

cleanup() {
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_postgres "$bindir/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$etcd_pid" ]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; fi
  if [ -n "$blackhole_pid" ]; then kill "$blackhole_pid" 2>/dev/null || true; wait "$blackhole_pid" 2>/dev/null || true; fi
  if [ "${PG_HA_KEEP_REGRESS:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# start_server <name> <extra postgresql.conf lines>: fresh data directory, server on a free port.
start_server() {
  local name=$1 extra=$2
  pgdata="$work/$name/data"
  sock="$work/$name/sock"
  port=$(free_port)
  mkdir -p "$work/$name" "$sock"
  chown -R postgres: "$work/$name" 2>/dev/null || true
  as_postgres "$bindir/initdb" -D "$pgdata" --auth=trust -U postgres --no-instructions >"$work/$name/initdb.log"
  cat >>"$pgdata/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_ha'
pg_ha.node_name = 'regress1'
pg_ha.connect_host = '127.0.0.1'
$extra
CONF
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -l "$work/$name/server.log" -w -t 60 start >/dev/null
}

stop_server() {
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  pgdata=""
}

psql_q() { as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d postgres "$@"; }

# The worker publishes its first status right after start; wait for it so tests see it.
wait_for_worker() {
  psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_ha" >/dev/null
  for _ in $(seq 1 100); do
    if psql_q -c "SELECT state FROM pg_ha.node_status()" >/dev/null 2>&1; then
      psql_q -c "DROP EXTENSION pg_ha" >/dev/null
      return 0
    fi
    sleep 0.1
  done
  echo "pg_ha worker published no status within 10 s" >&2
  return 1
}

# A cluster-mode primary refuses writes until it leads, so the database, the extension and
# anything else a phase needs are made while the server still runs standalone.
prepare_database() {
  psql_q -c "CREATE DATABASE pg_ha_regression"
  if [ -n "${1:-}" ]; then
    as_postgres "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d pg_ha_regression <<<"$1"
  fi
}

# Status is readable (the extension exists already) once the worker published it.
wait_for_status() {
  for _ in $(seq 1 100); do
    as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression \
      -c "SELECT 1 FROM pg_ha.node_status() WHERE NOT standalone" 2>/dev/null | grep -q 1 && return 0
    sleep 0.1
  done
  echo "pg_ha worker published no cluster status within 10 s" >&2
  return 1
}

# restart_with <extra postgresql.conf lines>: same data directory, new settings.
restart_with() {
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  printf '%s\n' "$1" >>"$pgdata/postgresql.conf"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -l "$(dirname "$pgdata")/server.log" -w -t 60 start >/dev/null
}

# run_phase <name> <schedule>: pg_regress prints its own summary line.
run_phase() {
  local name=$1 schedule=$2 out="$work/$1/results"
  mkdir -p "$out"
  chown -R postgres: "$out" 2>/dev/null || true
  echo "== pg_regress: $name =="
  local rc=0
  as_postgres "$pg_regress" --use-existing --host="$sock" --port="$port" --user=postgres \
    --bindir="$bindir" --dbname=pg_ha_regression --inputdir="$top/regress" --outputdir="$out" \
    --schedule="$schedule" || rc=$?
  if [ $rc -ne 0 ] && [ -f "$out/regression.diffs" ]; then cat "$out/regression.diffs"; fi
  # The boundary's promise: no backend or worker ever died from a signal (no crash restart).
  if grep -E "terminated by signal|server process .* was terminated|all server processes terminated" \
       "$work/$name/server.log"; then
    echo "FAILED: the server log shows a crashed process ($name)" >&2
    rc=1
  fi
  return $rc
}

# A TCP port that accepts connections (in the kernel backlog) and never answers: an etcd that
# hangs. Sets blackhole_port.
start_blackhole() {
  local portfile="$work/blackhole.port"
  /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(3600)' "$portfile" &
  blackhole_pid=$!
  for _ in $(seq 1 50); do [ -s "$portfile" ] && break; sleep 0.1; done
  blackhole_port=$(cat "$portfile")
}

# start_etcd: a one-member etcd on free loopback ports; again after a kill, on the same ports
# and data (an etcd restart, as far as pg_ha can tell).
etcd_client_port="" etcd_peer_port=""
start_etcd() {
  [ -n "$etcd_client_port" ] || etcd_client_port=$(free_port)
  [ -n "$etcd_peer_port" ] || etcd_peer_port=$(free_port)
  local peer="http://127.0.0.1:$etcd_peer_port"
  etcd_url="http://127.0.0.1:$etcd_client_port"
  mkdir -p "$work/etcd-server"
  /usr/bin/etcd --name regress --data-dir "$work/etcd-server/data" \
    --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "regress=$peer" >>"$work/etcd-server/etcd.log" 2>&1 &
  etcd_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$etcd_url/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "etcd did not start" >&2
  return 1
}

kill_etcd() { kill -9 "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true; etcd_pid=""; }

etcdctl_q() { ETCDCTL_API=3 etcdctl --endpoints "$etcd_url" "$@"; }

# What a sidecar's bootstrap would leave in etcd: this node won the initialize race.
initialize_cluster() {
  local sysid
  sysid=$(as_postgres "$bindir/pg_controldata" -D "$pgdata" | sed -n 's/^Database system identifier: *//p')
  etcdctl_q put /pg_ha/regress/initialize "{\"version\":1,\"node\":\"regress1\",\"system_identifier\":\"$sysid\"}" >/dev/null
}

# fenced_now: t or f, from the live fence test.
fenced_now() {
  as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression \
    -c "SELECT fenced FROM pg_ha.node_status()" 2>/dev/null
}

# A plain client session that sleeps; a fence must terminate it. Sets plain_pid.
start_plain_session() {
  as_postgres "$bindir/psql" -X -At "host=$sock port=$port user=regress_pg_ha_plain dbname=pg_ha_regression" \
    -c "SELECT pg_sleep(120)" >"$work/plain_session.log" 2>&1 &
  plain_pid=$!
}

# Kills etcd under the leading primary and measures how long writes stay possible.
measure_fence() {
  local start_ms now_ms
  start_ms=$(date +%s%3N)
  kill_etcd
  for _ in $(seq 1 300); do
    [ "$(fenced_now)" = t ] && break
    sleep 0.05
  done
  now_ms=$(date +%s%3N)
  if [ "$(fenced_now)" = t ]; then
    echo "ok: fenced $((now_ms - start_ms)) ms after etcd was killed"
  else
    echo "FAILED: not fenced 15 s after etcd was killed" >&2; status=1
  fi
}

check_plain_session_terminated() {
  local rc=0
  for _ in $(seq 1 50); do kill -0 "$plain_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$plain_pid" 2>/dev/null; then
    echo "FAILED: a plain client session survived the fence" >&2; status=1
    kill "$plain_pid" 2>/dev/null || true
  else
    wait "$plain_pid" || rc=$?
    if [ $rc -ne 0 ] && grep -q "terminating connection" "$work/plain_session.log"; then
      echo "ok: the plain client session was terminated by the fence"
    else
      echo "FAILED: plain session ended with rc=$rc: $(cat "$work/plain_session.log")" >&2; status=1
    fi
  fi
}

# expect_login <role> <yes|no> [extra conninfo]: a new connection is admitted or refused.
expect_login() {
  local role=$1 want=$2 extra=${3:-} out rc=0
  out=$(as_postgres "$bindir/psql" -X -At "host=$sock port=$port user=$role dbname=pg_ha_regression $extra" \
        -c "SELECT 'admitted'" 2>&1) || rc=$?
  if [ "$want" = yes ] && [ $rc -eq 0 ]; then echo "ok: $role admitted"; return 0; fi
  if [ "$want" = no ] && [ $rc -ne 0 ] && grep -q "pg_ha: this node is fenced" <<<"$out"; then
    echo "ok: $role refused: ${out##*FATAL:  }"; return 0
  fi
  echo "FAILED: login of $role (expected admitted=$want): $out" >&2
  return 1
}

# Without shared_preload_libraries pg_ha refuses to load, with a message that says how to fix it.
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

phase_standalone() {
  start_server standalone ""
  if wait_for_worker; then
    psql_q -c "CREATE DATABASE pg_ha_regression"
    run_phase standalone "$top/regress/standalone_schedule" || status=1
    check_worker_restart
  else
    status=1
  fi
  stop_server
  check_worker_shutdown_exit
}

worker_pid() {
  ps -o pid=,args= --ppid "$(head -1 "$pgdata/postmaster.pid")" | awk '/pg_ha worker/ {print $1}'
}

# A SIGTERM of the worker that is no server shutdown (an operator's kill) ends it with exit code 1,
# so the postmaster starts it again after bgw_restart_time (2 s); exit code 0 would leave the
# node without its worker until the next server restart.
check_worker_restart() {
  local log new=""
  log="$(dirname "$pgdata")/server.log"
  old_worker=$(worker_pid)
  if [ -z "$old_worker" ]; then echo "FAILED: no pg_ha worker process" >&2; status=1; return; fi
  kill -TERM "$old_worker"
  for _ in $(seq 1 100); do
    new=$(worker_pid)
    [ -n "$new" ] && [ "$new" != "$old_worker" ] && break
    sleep 0.1
  done
  if [ -n "$new" ] && [ "$new" != "$old_worker" ] && grep -q "(PID $old_worker) exited with exit code 1" "$log"; then
    echo "ok: a stray SIGTERM ended the worker with exit code 1; the postmaster started it again (PID $new)"
    new_worker=$new
  else
    echo "FAILED: after a SIGTERM of the worker (PID $old_worker): new worker '${new}'" >&2; status=1
  fi
}

# ... while the SIGTERM of a server shutdown ends it with exit code 0 (no error in the log).
check_worker_shutdown_exit() {
  local log="$work/standalone/server.log"
  if [ -n "${new_worker:-}" ] && ! grep -q "(PID $new_worker) exited with exit code" "$log"; then
    echo "ok: the worker ended with exit code 0 at the server shutdown"
  else
    echo "FAILED: worker exit at shutdown: $(grep "pg_ha worker" "$log" | tail -2)" >&2; status=1
  fi
}

# start_cluster_node <phase> <etcd url> <setup sql> [settings]: creates the database and the
# extension while standalone, then restarts the server as a member of cluster "regress" at
# <etcd url> (with extra postgresql.conf lines, which win).
start_cluster_node() {
  local name=$1 url=$2 setup=$3 extra=${4:-} state="$work/$1/state"
  start_server "$name" "max_prepared_transactions = 2"
  wait_for_worker || return 1
  prepare_database "CREATE EXTENSION pg_ha; $setup" || return 1
  mkdir -p "$state"; chown postgres: "$state" 2>/dev/null || true
  restart_with "pg_ha.etcd_endpoints = '$url'
pg_ha.cluster_name = 'regress'
pg_ha.state_dir = '$state'
pg_ha.etcd_timeout_ms = 500
$extra"
  wait_for_status
}

# A standalone hot standby streaming from a standalone primary: the replica paths of the status
# functions and of the worker's observation (WAL receiver, replay, timeline).
phase_replica() {
  start_server replica_primary "wal_level = replica"
  local primary_data=$pgdata primary_port=$port primary_sock=$sock
  wait_for_worker || { status=1; stop_server; return; }
  psql_q -c "CREATE DATABASE pg_ha_regression" && psql_q -d pg_ha_regression -c "CREATE EXTENSION pg_ha"
  local replica="$work/replica"
  mkdir -p "$replica/sock"; chown -R postgres: "$replica" 2>/dev/null || true
  as_postgres "$bindir/pg_basebackup" -h "$primary_sock" -p "$primary_port" -U postgres -D "$replica/data" -R -X stream \
    >"$replica/basebackup.log" 2>&1 || { echo "FAILED: pg_basebackup" >&2; status=1; stop_server; return; }
  port=$(free_port); sock="$replica/sock"
  cat >>"$replica/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$sock'
pg_ha.node_name = 'regress2'
primary_conninfo = 'host=$primary_sock port=$primary_port user=postgres application_name=regress2'
CONF
  pgdata="$replica/data"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -l "$replica/server.log" -w -t 60 start >/dev/null
  run_phase replica "$top/regress/replica_schedule" || status=1
  stop_server
  pgdata=$primary_data port=$primary_port sock=$primary_sock
  stop_server
}

# etcd configured but hanging: the primary holds no lease, so it must refuse every commit and
# every new client connection except the admin role and replication; control functions give up
# at their deadline or at a statement timeout.
phase_fenced() {
  start_blackhole
  if ! start_cluster_node fenced "http://127.0.0.1:$blackhole_port" "
    CREATE ROLE regress_pg_ha_plain LOGIN;
    CREATE ROLE regress_pg_ha_admin_login LOGIN IN ROLE pgha_admin;
    CREATE ROLE regress_pg_ha_replication LOGIN REPLICATION;
    CREATE TABLE regress_fence (id int);
    CREATE SEQUENCE regress_fence_seq;
    BEGIN; INSERT INTO regress_fence VALUES (1); PREPARE TRANSACTION 'regress_before_fence';
    BEGIN; INSERT INTO regress_fence VALUES (2); PREPARE TRANSACTION 'regress_rollback_later';"; then
    status=1; stop_server; return
  fi
  run_phase fenced "$top/regress/fenced_schedule" || status=1
  echo "== new connections while fenced =="
  expect_login regress_pg_ha_plain no || status=1
  expect_login regress_pg_ha_admin_login yes || status=1
  expect_login postgres yes || status=1
  expect_login regress_pg_ha_replication yes "replication=database" || status=1
  stop_server
}

# A real etcd: control functions read and write it from the backend; then etcd is killed and
# the same functions must fail cleanly (regress/etcd_down_schedule).
# kill -9 of the postmaster while a client's write is in flight: the orphaned backend finishes
# its statement (CPU only: a latch wait would make it exit at once) but must not commit
# (DESIGN.md §5). Ends the server of the phase.
check_postmaster_death() {
  local pm_pid out rc=0
  pm_pid=$(head -1 "$pgdata/postmaster.pid")
  as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression \
    -c "INSERT INTO regress_lead SELECT count(*)::int FROM generate_series(1, 30000000)" >"$work/orphan.log" 2>&1 &
  local client=$!
  sleep 0.5   # the statement computes for a few seconds, with no latch wait that would notice
  kill -9 "$pm_pid"
  wait "$client" || rc=$?
  out=$(cat "$work/orphan.log")
  if [ $rc -ne 0 ] && grep -q "pg_ha: this node is fenced: postmaster is gone" <<<"$out"; then
    echo "ok: an orphaned backend could not commit: ${out#ERROR:  }"
  else
    echo "FAILED: commit after kill -9 of the postmaster (rc=$rc): $out" >&2; status=1
  fi
  # The remaining children notice the postmaster's death and exit by themselves.
  for _ in $(seq 1 100); do pgrep -u postgres -f -- "-D $pgdata" >/dev/null || break; sleep 0.1; done
  rm -f "$pgdata/postmaster.pid"
  pgdata=""
}

# A clean shutdown of the leading primary releases its lease (failover can start at once), after
# fencing; after the restart the node reclaims leadership in the same term.
check_release_on_shutdown() {
  local log
  log="$(dirname "$pgdata")/server.log"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -m fast -w restart -l "$log" >/dev/null
  if grep -q "released the lease (the server is shutting down)" "$log"; then
    echo "ok: the leading primary released its lease on shutdown"
  else
    echo "FAILED: no lease release in the log on shutdown" >&2; status=1
  fi
  for _ in $(seq 1 300); do [ "$(fenced_now)" = f ] && break; sleep 0.1; done
  if [ "$(fenced_now)" = f ]; then
    echo "ok: after the restart the node leads again: $(psql_q -d pg_ha_regression -c "SELECT 'term ' || term FROM pg_ha.cluster()" 2>/dev/null)"
  else
    echo "FAILED: the node did not lead again after its restart" >&2; status=1
  fi
}

# A real etcd. First with no cluster in it: control functions read and write etcd from the
# backend, and the core refuses what the cluster's state does not allow. Then bootstrapped: the
# node leads and writes; etcd is killed: the node fences (timed), clients are cut, control fails
# cleanly; etcd comes back: the node unfences in the same term and timeline, without a restart.
# A clean restart releases the lease and leads again. Last, the postmaster is killed under a
# running write: that write must not commit.
phase_etcd() {
  if [ ! -f "$build/extension/etcd/libpg_ha_etcd.a" ]; then
    echo "== pg_regress: etcd == skipped: pg_ha was built without the etcd client"
    return
  fi
  start_etcd || { status=1; return; }
  if ! start_cluster_node etcd "$etcd_url" "CREATE ROLE regress_pg_ha_admin_login LOGIN IN ROLE pgha_admin;
    GRANT ALTER SYSTEM ON PARAMETER wal_sender_timeout TO regress_pg_ha_admin_login;
    CREATE ROLE regress_pg_ha_plain LOGIN;
    CREATE TABLE regress_lead (id int);
    GRANT SELECT ON regress_lead TO regress_pg_ha_plain;
    CREATE FUNCTION regress_error_head(call text) RETURNS text LANGUAGE plpgsql AS \$\$
    BEGIN
      EXECUTE 'SELECT ' || call;
      RETURN 'no error';
    EXCEPTION WHEN OTHERS THEN  -- the SQLSTATE and the message up to its second colon
      RETURN SQLSTATE || ' ' || split_part(SQLERRM, ':', 1) || ':' || split_part(SQLERRM, ':', 2);
    END \$\$;
    CREATE FUNCTION regress_wait_fenced(want boolean) RETURNS boolean LANGUAGE plpgsql AS \$\$
    BEGIN
      FOR i IN 1..300 LOOP
        IF (SELECT fenced FROM pg_ha.node_status()) = want THEN RETURN true; END IF;
        PERFORM pg_sleep(0.1);
      END LOOP;
      RETURN false;
    END \$\$;
    CREATE FUNCTION regress_wait_for(condition text) RETURNS boolean LANGUAGE plpgsql AS \$\$
    DECLARE ok boolean;
    BEGIN
      FOR i IN 1..300 LOOP
        EXECUTE 'SELECT ' || condition INTO ok;
        IF ok THEN RETURN true; END IF;
        PERFORM pg_sleep(0.1);
      END LOOP;
      RETURN false;
    END \$\$;"; then
    status=1; stop_server; return
  fi
  run_phase etcd "$top/regress/etcd_schedule" || status=1
  # set_config() really wrote etcd: read the key back with etcdctl.
  local config
  config=$(etcdctl_q get --print-value-only /pg_ha/regress/config)
  if grep -q '"ttl":20' <<<"$config" && grep -q '"maximum_lag_on_failover":2097152' <<<"$config"; then
    echo "ok: etcd holds the config written by pg_ha.set_config()"
  else
    echo "FAILED: config in etcd after set_config(): $config" >&2; status=1
  fi
  initialize_cluster
  run_phase etcd "$top/regress/etcd_leader_schedule" || status=1
  start_plain_session
  sleep 0.5
  measure_fence
  check_plain_session_terminated
  run_phase etcd "$top/regress/etcd_down_schedule" || status=1
  start_etcd || status=1
  run_phase etcd "$top/regress/etcd_back_schedule" || status=1
  check_release_on_shutdown
  check_postmaster_death
}

# cannot_state: "<state>|<reason>" of the node, from its status.
cannot_state() {
  as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression \
    -c "SELECT state || '|' || reason FROM pg_ha.node_status()" 2>/dev/null
}

# wait_node_status <grep -E pattern> <what> [-v]: the node's status matches (-v: no longer
# matches) within 15 s.
wait_node_status() {
  local got=""
  for _ in $(seq 1 150); do
    got=$(cannot_state)
    [ -n "$got" ] && grep -Eq ${3:-} "$1" <<<"$got" && { echo "ok: $2: $got"; return 0; }
    sleep 0.1
  done
  echo "FAILED: $2: status is '$got'" >&2; status=1
}

# A node whose settings do not let it run stays fenced, says why in its status, and tries again
# with fresh settings on a reload and by itself every few seconds (a secret mounted late). Run
# after phase_etcd, on its etcd with authentication turned on. The etcd user over plain http is
# refused until the operator opts in.
phase_cannot_run() {
  [ -n "$etcd_pid" ] || { echo "== cannot_run == skipped: no etcd"; return; }
  echo "== cannot_run =="
  local pwfile="$work/cannot_run/etcd.pw"
  etcdctl_q user add root:regress-pw >/dev/null && etcdctl_q auth enable >/dev/null || { status=1; return; }
  if ! start_cluster_node cannot_run "$etcd_url" "" "pg_ha.cluster_name = 'regress_auth'
pg_ha.etcd_user = 'root'
pg_ha.etcd_password_file = '$pwfile'"; then
    status=1; stop_server; return
  fi
  wait_node_status "^cannot_run\|.*password in clear text to http://" "etcd credentials over http refused"
  psql_q -c "ALTER SYSTEM SET pg_ha.etcd_allow_insecure_auth = on" -c "SELECT pg_reload_conf()" >/dev/null
  wait_node_status "^cannot_run\|.*could not read pg_ha.etcd_password_file" "after a reload, the next reason"
  printf 'regress-pw\n' >"$pwfile"; chown postgres: "$pwfile" 2>/dev/null || true
  wait_node_status "^cannot_run" "the password file appeared: the node runs without a restart" -v
  if grep -q "regress-pw" "$work/cannot_run/server.log"; then echo "FAILED: the etcd password is in the log" >&2; status=1; fi
  stop_server
}

install_module
status=0
# PG_HA_REGRESS_PHASES="etcd fenced" runs only those phases (while working on one of them).
for phase in ${PG_HA_REGRESS_PHASES:-not_preloaded standalone replica fenced etcd cannot_run}; do
  "phase_$phase"
done

exit $status
