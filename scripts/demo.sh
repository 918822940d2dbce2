#!/usr/bin/env bash
# The main job: a local 3-node pg_ha cluster with its own etcd, on loopback.
#   bash scripts/demo.sh                 start (1 etcd member), wait for 1 primary + 2 replicas, show it
#   bash scripts/demo.sh --etcd 3        the same with a 3-member etcd cluster
#   bash scripts/demo.sh status          print the cluster table again
#   bash scripts/demo.sh stop [--wipe]   stop everything (and delete the demo directory)
# PG_HA_DEMO_DIR (default /tmp/pg_ha_demo) or --dir holds data, configs, logs and pid files.
# Builds pg_ha and installs it into PostgreSQL's own directories (scripts/uninstall.sh removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  # apt-get, the install into PostgreSQL's directories and runuser -u postgres need root.
  command -v sudo >/dev/null || { echo "demo.sh: run as root, or as a user who may use sudo" >&2; exit 1; }
  exec sudo --preserve-env=PG_HA_DEMO_DIR bash "$0" "$@"
fi
top=$(pwd)
default_dir=/tmp/pg_ha_demo
dir=${PG_HA_DEMO_DIR:-$default_dir}
etcd_members=1
action=start
wipe=0
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|status) action=$1 ;;
    --etcd) etcd_members=$2; shift ;;
    --wipe) wipe=1 ;;
    --dir) dir=$2; shift ;;
    *) echo "usage: $0 [start|status|stop] [--etcd 1|3] [--wipe] [--dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
# How to name this demo in the commands we print: --dir only when it is not the default.
dir_arg=""
[ "$dir" = "$default_dir" ] || dir_arg=" --dir $(printf %q "$dir")"
running() {  # a process of ours is alive (a pid file left by a crash or a reboot does not count)
  local f
  for f in "$dir"/run/*.pid; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && return 0; done
  return 1
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop_all() {
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

psql_node() {  # psql_node N SQL
  local port; port=$(cat "$dir/run/node$1.port")
  runuser -u postgres -- psql -X -h "$dir/node$1/socket" -p "$port" -U postgres -d postgres -c "$2"
}

psql_value() {  # psql_value N SQL: one value, no decoration
  local port; port=$(cat "$dir/run/node$1.port")
  runuser -u postgres -- psql -X -At -h "$dir/node$1/socket" -p "$port" -U postgres -d postgres -c "$2"
}

show_status() {
  local asked=""
  for n in 1 2 3; do
    if psql_node "$n" "SELECT name, role, state, timeline, lag_bytes, host, port FROM pg_ha.members() ORDER BY name" 2>/dev/null; then
      asked=$n; break
    fi
  done
  [ -n "$asked" ] || { echo "no node of the demo in $dir answers"; return 1; }
  local replica
  replica=$(psql_value "$asked" "SELECT name FROM pg_ha.members() WHERE role = 'replica' ORDER BY name LIMIT 1" 2>/dev/null || true)
  local hosts="" ports=""
  for n in 1 2 3; do hosts+="127.0.0.1,"; ports+="$(cat "$dir/run/node$n.port"),"; done
  echo "Connect (libpq multi-host, finds the primary; demo role, password in $dir/demo.pgpass):"
  echo "  PGPASSFILE=$dir/demo.pgpass psql 'host=${hosts%,} port=${ports%,} dbname=postgres user=demo target_session_attrs=read-write'"
  echo "Health checks (HAProxy):"
  for n in 1 2 3; do echo "  node$n: http://127.0.0.1:$(cat "$dir/run/node$n.http")/primary  /replica  /health  /metrics"; done
  echo "Try a switchover:  runuser -u postgres -- psql -h $dir/node$asked/socket -p $(cat "$dir/run/node$asked.port") -c \"SELECT pg_ha.switchover('${replica:-node2}')\""
  echo "Stop:              bash scripts/demo.sh stop$dir_arg [--wipe]"
}

# A login role for trying the cluster over TCP, its password in a passfile (never on a command line).
# PostgreSQL 15 lets only the database owner create in schema public: the role gets a schema of its
# own, first on its default search_path ("$user", public), so CREATE TABLE works as it is typed.
create_demo_role() {
  local pass n
  [ -f "$dir/demo.pgpass" ] || echo "*:*:*:demo:$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" > "$dir/demo.pgpass"
  chmod 600 "$dir/demo.pgpass"
  pass=$(cut -d: -f5 "$dir/demo.pgpass")
  for n in 1 2 3; do
    psql_value "$n" "SELECT NOT pg_is_in_recovery()" 2>/dev/null | grep -q t || continue
    printf "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo') THEN CREATE ROLE demo LOGIN; END IF; END \$\$;\nALTER ROLE demo PASSWORD '%s';\nGRANT pg_monitor TO demo;\nCREATE SCHEMA IF NOT EXISTS demo AUTHORIZATION demo;\n" "$pass" |
      runuser -u postgres -- psql -X -q -h "$dir/node$n/socket" -p "$(cat "$dir/run/node$n.port")" -U postgres -d postgres >/dev/null
    return 0
  done
}

case "$action" in
  stop)
    if ! running; then
      if [ "$wipe" = 1 ] && [ -d "$dir" ]; then rm -rf "$dir"; echo "nothing was running; wiped $dir"; exit 0; fi
      echo "no demo is running in $dir (started with --dir or PG_HA_DEMO_DIR? pass the same here)" >&2
      exit 1
    fi
    stop_all
    if [ "$wipe" = 1 ]; then rm -rf "$dir"; echo "stopped and wiped $dir"; else echo "stopped (data kept in $dir)"; fi
    exit 0 ;;
  status)
    running || { echo "no demo is running in $dir (started with --dir or PG_HA_DEMO_DIR? pass the same here)" >&2; exit 1; }
    show_status; exit $? ;;
esac

# Refuse a second demo in the same folder before building or installing anything.
if running; then
  echo "a demo is already running in $dir: bash scripts/demo.sh stop$dir_arg [--wipe] first" >&2; exit 1
fi

bash scripts/install-deps.sh
bash scripts/configure.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)" --target pg_ha pg_ha_sidecar >/dev/null
cmake --install build --component Unspecified >/dev/null 2>&1 || cmake --install build >/dev/null
# The installed copy: the postgres user may not be able to reach this checkout (under /root, say).
sidecar_bin="$(pg_config --bindir)/pg_ha_sidecar"

mkdir -p "$dir/run" "$dir/etcd"
trap 'echo "demo failed; stopping what it started"; stop_all' ERR

# etcd: one member, or three.
endpoints=""; initial=""
declare -a client_ports peer_ports
for i in $(seq 1 "$etcd_members"); do client_ports[$i]=$(free_port); peer_ports[$i]=$(free_port); done
for i in $(seq 1 "$etcd_members"); do initial+="e$i=http://127.0.0.1:${peer_ports[$i]},"; endpoints+="http://127.0.0.1:${client_ports[$i]},"; done
initial=${initial%,}; endpoints=${endpoints%,}
for i in $(seq 1 "$etcd_members"); do
  etcd --name "e$i" --data-dir "$dir/etcd/e$i" \
    --listen-client-urls "http://127.0.0.1:${client_ports[$i]}" --advertise-client-urls "http://127.0.0.1:${client_ports[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${peer_ports[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer_ports[$i]}" \
    --initial-cluster "$initial" --initial-cluster-state new >"$dir/etcd/e$i.log" 2>&1 &
  echo $! > "$dir/run/etcd$i.pid"
done

# The replication password lives only in a passfile readable by postgres.
passfile="$dir/replication.pgpass"
if [ ! -f "$passfile" ]; then
  echo "*:*:*:replicator:$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$passfile"
fi
chown postgres:postgres "$passfile"; chmod 600 "$passfile"

for n in 1 2 3; do
  port=$(free_port); http=$(free_port)
  echo "$port" > "$dir/run/node$n.port"; echo "$http" > "$dir/run/node$n.http"
  mkdir -p "$dir/node$n/socket" "$dir/node$n/state"
  chown -R postgres:postgres "$dir/node$n"
  cat > "$dir/node$n/sidecar.conf" <<CONF
name = 'node$n'
cluster = 'demo'
data_dir = '$dir/node$n/data'
state_dir = '$dir/node$n/state'
socket_dir = '$dir/node$n/socket'
listen_host = '127.0.0.1'
connect_host = '127.0.0.1'
port = $port
http_listen = '127.0.0.1:$http'
etcd_endpoints = '$endpoints'
replication_passfile = '$passfile'
CONF
  # As the postgres OS user, which owns the node's files (the sidecar refuses root). setpriv execs
  # the sidecar itself, so the pid below is the sidecar's (runuser would stay its parent).
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$sidecar_bin" --config "$dir/node$n/sidecar.conf" >"$dir/node$n/sidecar.log" 2>&1 &
  echo $! > "$dir/run/node$n.pid"
done
trap - ERR

echo "waiting for one primary and two streaming replicas..."
healthy=0
for _ in $(seq 1 120); do
  for n in 1 2 3; do
    out=$(psql_node "$n" "SELECT count(*) FILTER (WHERE role='primary' AND state='primary') || ' ' || count(*) FILTER (WHERE role='replica' AND state='streaming') FROM pg_ha.members()" 2>/dev/null | sed -n 3p | tr -d ' ' || true)
    [ "$out" = "12" ] && { healthy=1; break; }
  done
  [ "$healthy" = 1 ] && break
  sleep 1
done
if [ "$healthy" != 1 ]; then
  echo "the cluster did not become healthy within 120 s; last lines of each node's log:" >&2
  for n in 1 2 3; do echo "--- node$n" >&2; tail -n 15 "$dir/node$n/sidecar.log" >&2 || true; done
  show_status || true
  echo "stop it with: bash scripts/demo.sh stop$dir_arg [--wipe]" >&2
  exit 1
fi
create_demo_role
show_status
