# Helpers shared by the pg_regress phases (scripts/run-regress.sh sources this, then one file per
# phase). Expects: build, top, bindir, pg_regress, work; sets pgdata, port, sock for the server
# of the moment and `status=1` on a failed check.

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

install_module() {
  install -m 0755 "$build/extension/pg_ha.so" "$("$pg_config" --pkglibdir)/pg_ha.so"
  install -m 0644 "$top/pg_ha.control" "$top/sql/pg_ha--0.1.sql" "$("$pg_config" --sharedir)/extension/"
}

pgdata="" etcd_pid="" blackhole_pid=""

# Stops what the phases started, also on failure; keeps the work directory with PG_HA_KEEP_REGRESS=1.
cleanup() {
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_postgres "$bindir/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$etcd_pid" ]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; fi
  if [ -n "$blackhole_pid" ]; then kill "$blackhole_pid" 2>/dev/null || true; wait "$blackhole_pid" 2>/dev/null || true; fi
  if [ "${PG_HA_KEEP_REGRESS:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}

# ---- one server at a time ----------------------------------------------------------------------

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

# restart_with <extra postgresql.conf lines>: same data directory, new settings.
restart_with() {
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
  printf '%s\n' "$1" >>"$pgdata/postgresql.conf"
  as_postgres "$bindir/pg_ctl" -D "$pgdata" -l "$(dirname "$pgdata")/server.log" -w -t 60 start >/dev/null
}

psql_q() { as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d postgres "$@"; }

# The same in the phases' database, errors hidden (for polls).
psql_regress() {
  as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression "$@" 2>/dev/null
}

worker_pid() {
  ps -o pid=,args= --ppid "$(head -1 "$pgdata/postmaster.pid")" | awk '/pg_ha worker/ {print $1}'
}

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
    psql_regress -c "SELECT 1 FROM pg_ha.node_status() WHERE NOT standalone" | grep -q 1 && return 0
    sleep 0.1
  done
  echo "pg_ha worker published no cluster status within 10 s" >&2
  return 1
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

# ---- pg_regress ----------------------------------------------------------------------------------

# run_schedule <phase> <schedule file in regress/>: pg_regress prints its own summary line; on a
# failure its diffs follow. Also fails when the server log shows a process that died from a signal.
run_schedule() {
  local name=$1 schedule="$top/regress/$2" out="$work/$1/results"
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

# ---- etcd, real or hanging -----------------------------------------------------------------------

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

# ---- what the node says and who gets in ----------------------------------------------------------

# fenced_now: t or f, from the live fence test.
fenced_now() { psql_regress -c "SELECT fenced FROM pg_ha.node_status()"; }

# node_state: "<state>|<reason>" of the node, from its status.
node_state() { psql_regress -c "SELECT state || '|' || reason FROM pg_ha.node_status()"; }

# wait_node_status <grep -E pattern> <what> [-v]: the node's status matches (-v: no longer
# matches) within 15 s.
wait_node_status() {
  local got=""
  for _ in $(seq 1 150); do
    got=$(node_state)
    [ -n "$got" ] && grep -Eq ${3:-} "$1" <<<"$got" && { echo "ok: $2: $got"; return 0; }
    sleep 0.1
  done
  echo "FAILED: $2: status is '$got'" >&2; status=1
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
