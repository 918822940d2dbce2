# Phase standalone: no etcd configured (regress/standalone_schedule); then the worker's exit codes.
phase_standalone() {
  start_server standalone ""
  if wait_for_worker; then
    psql_q -c "CREATE DATABASE pg_ha_regression"
    run_schedule standalone standalone_schedule || status=1
    check_worker_restart
  else
    status=1
  fi
  stop_server
  check_worker_shutdown_exit
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
