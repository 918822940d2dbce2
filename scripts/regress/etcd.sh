# Phase etcd: a real etcd. First with no cluster in it: control functions read and write etcd from
# the backend, and the core refuses what the cluster's state does not allow. Then bootstrapped:
# the node leads and writes; etcd is killed: the node fences (timed), clients are cut, control
# fails cleanly; etcd comes back: the node unfences in the same term and timeline, without a
# restart. A clean restart releases the lease and leads again. Last, the postmaster is killed
# under a running write: that write must not commit.
phase_etcd() {
  have_etcd_client || return 0
  start_etcd || { status=1; return; }
  if ! start_cluster_node etcd "$etcd_url" "$(cat "$top/scripts/regress/etcd_setup.sql")"; then
    status=1; stop_server; return
  fi
  etcd_without_cluster    # control functions against an etcd with no cluster; set_config reached etcd
  etcd_leading            # bootstrapped: the node leads and writes
  etcd_killed             # fenced in time, a plain session cut, control fails cleanly
  etcd_back               # unfenced in the same term; a clean restart releases the lease, leads again
  check_postmaster_death  # kill -9 of the postmaster under a running write: it does not commit
}

have_etcd_client() {
  [ -f "$build/extension/etcd/libpg_ha_etcd.a" ] && return 0
  echo "== pg_regress: etcd == skipped: pg_ha was built without the etcd client"
  return 1
}

etcd_without_cluster() {
  run_schedule etcd etcd_schedule || status=1
  check_config_in_etcd
}

etcd_leading() {
  initialize_cluster
  run_schedule etcd etcd_leader_schedule || status=1
}

etcd_killed() {
  start_plain_session
  sleep 0.5
  measure_fence
  check_plain_session_terminated
  run_schedule etcd etcd_down_schedule || status=1
}

etcd_back() {
  start_etcd || status=1
  run_schedule etcd etcd_back_schedule || status=1
  check_release_on_shutdown
}

# set_config() really wrote etcd: read the key back with etcdctl.
check_config_in_etcd() {
  local config
  config=$(etcdctl_q get --print-value-only /pg_ha/regress/config)
  if grep -q '"ttl":20' <<<"$config" && grep -q '"maximum_lag_on_failover":2097152' <<<"$config"; then
    echo "ok: etcd holds the config written by pg_ha.set_config()"
  else
    echo "FAILED: config in etcd after set_config(): $config" >&2; status=1
  fi
}

# What a sidecar's bootstrap would leave in etcd: this node won the initialize race.
initialize_cluster() {
  local sysid
  sysid=$(as_postgres "$bindir/pg_controldata" -D "$pgdata" | sed -n 's/^Database system identifier: *//p')
  etcdctl_q put /pg_ha/regress/initialize "{\"version\":1,\"node\":\"regress1\",\"system_identifier\":\"$sysid\"}" >/dev/null
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
    echo "ok: after the restart the node leads again: $(psql_regress -c "SELECT 'term ' || term FROM pg_ha.cluster()")"
  else
    echo "FAILED: the node did not lead again after its restart" >&2; status=1
  fi
}

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
