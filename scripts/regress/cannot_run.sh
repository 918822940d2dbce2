# Phase cannot_run: a node whose settings do not let it run stays fenced, says why in its status,
# and tries again with fresh settings on a reload and by itself every few seconds (a secret
# mounted late). Runs after phase_etcd, on its etcd with authentication turned on. The etcd user
# over plain http is refused until the operator opts in.
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
  control_function_authenticates
  if grep -q "regress-pw" "$work/cannot_run/server.log"; then echo "FAILED: the etcd password is in the log" >&2; status=1; fi
  stop_server
}

# The control functions reach etcd with the same credentials as the worker (pg::etcd_options).
# The node waits for a sidecar to initialize its cluster; a config change needs no cluster state.
control_function_authenticates() {
  local out
  out=$(as_postgres "$bindir/psql" -X -q -At -h "$sock" -p "$port" -U postgres -d pg_ha_regression \
        -c "SELECT pg_ha.set_config('{\"maximum_lag_on_failover\": 2097152}') ->> 'action'" 2>&1)
  if [ "$out" = "change the config" ]; then
    echo "ok: pg_ha.set_config() authenticated to etcd and wrote the config"
  else
    echo "FAILED: pg_ha.set_config() with etcd authentication: $out" >&2; status=1
  fi
}
