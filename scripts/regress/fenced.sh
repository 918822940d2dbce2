# Phase fenced: etcd configured but hanging. The primary holds no lease, so it must refuse every
# commit and every new client connection except the admin role and replication; control
# functions give up at their deadline or at a statement timeout (regress/fenced_schedule).
phase_fenced() {
  start_blackhole
  if ! start_cluster_node fenced "http://127.0.0.1:$blackhole_port" "$(cat "$top/scripts/regress/fenced_setup.sql")"; then
    status=1; stop_server; return
  fi
  run_schedule fenced fenced_schedule || status=1
  echo "== new connections while fenced =="
  expect_login regress_pg_ha_plain no || status=1
  expect_login regress_pg_ha_admin_login yes || status=1
  expect_login postgres yes || status=1
  expect_login regress_pg_ha_replication yes "replication=database" || status=1
  stop_server
}
