"""A pg_ha cluster: one pg_ha_sidecar per node (it bootstraps, starts and supervises postgres),
the dynamic config in etcd key /pg_ha/<cluster>/config."""
import json
import os
import shutil
import time

import psycopg2

import procs
from cluster import Cluster

# bench/setup.sh makes a private PostgreSQL tree with the pg_ha built in build-bench/.
BIN_DIR = os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin")
SIDECAR = os.path.join(BIN_DIR, "pg_ha_sidecar")


class PgHaCluster(Cluster):
    system = "pg_ha"

    def __init__(self, base, label, etcd, config, nodes=3, os_users=None):
        """config: the dynamic cluster config (dict) written before the first node starts;
        {} leaves pg_ha's defaults. os_users: see Cluster."""
        super().__init__(base, label, etcd, nodes, os_users)
        self.config = config
        self.sync = config.get("synchronous_mode", "off") not in ("off", False)
        if config:
            etcd.put("/pg_ha/bench/config", json.dumps(dict({"version": 1}, **config)))
        # One copy per node, mode 0600 and owned by the node's OS user (the sidecar checks both).
        secret = os.urandom(12).hex()
        for n in self.nodes:
            path = self.passfile(n)
            with open(path, "w") as f:
                f.write(f"*:*:*:replicator:{secret}\n")
            os.chmod(path, 0o600)
            shutil.chown(path, n.user, n.user)

    def passfile(self, n):
        return os.path.join(n.base, "replication.pgpass")

    def start_node(self, n):
        conf = os.path.join(n.base, "sidecar.conf")
        state = os.path.join(n.base, "state")
        os.makedirs(state, exist_ok=True)
        shutil.chown(state, n.user, n.user)
        with open(conf, "w") as f:
            f.write(f"name = '{n.name}'\ncluster = 'bench'\ndata_dir = '{n.data_dir}'\n"
                    f"state_dir = '{state}'\nsocket_dir = '{n.socket_dir}'\n"
                    f"listen_host = '127.0.0.1'\nconnect_host = '127.0.0.1'\nport = {n.port}\n"
                    f"http_listen = '127.0.0.1:{n.http}'\netcd_endpoints = '{self.etcd.url}'\n"
                    f"replication_passfile = '{self.passfile(n)}'\ntool_sync = off\nbin_dir = '{BIN_DIR}'\n"
                    f"os_user = '{n.user}'\n")
        # As the node's OS user: the sidecar refuses root (docs/sidecar.md).
        n.agent = procs.spawn([SIDECAR, "--config", conf], os.path.join(n.base, "sidecar.log"), user=n.user)

    def healthy(self):
        p = super().healthy()
        if p is None:
            return None
        try:  # every member streaming in pg_ha's own view, too
            rows = self.sql(p, "SELECT count(*) FROM pg_ha.members() WHERE role = 'replica' AND state = 'streaming'")
        except psycopg2.Error:
            return None
        return p if int(rows[0][0]) >= len(self.nodes) - 1 else None

    def sync_recorded(self, p):
        # pg_ha.cluster().sync_standbys: the recorded set (docs/synchronous.md); in non-strict mode
        # with no standby it holds the primary itself, and nobody is promoted automatically.
        rows = self.sql(p, "SELECT coalesce(array_length(sync_standbys, 1), 0) > 0 AND NOT (%s = ANY(sync_standbys)) "
                           "FROM pg_ha.cluster()", (p.name,))
        return bool(rows and rows[0][0])

    def switchover(self, old, new):
        t0 = time.monotonic()
        try:
            out = self.sql(old, "SELECT pg_ha.switchover(%s)", (new.name,))
            return time.monotonic() - t0, True, str(out[0][0])
        except psycopg2.Error as e:
            return time.monotonic() - t0, False, str(e).strip()

    def worker_pid(self, n, title=b"pg_ha worker"):
        """A child of the postmaster by its process title: the pg_ha background worker by default."""
        pm = self.postmaster(n)
        for pid in procs.children_map().get(pm, []):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if title in f.read():
                        return pid
            except OSError:
                pass
        return None

    def logs(self, n):
        return [os.path.join(n.base, "sidecar.log"), os.path.join(n.base, "state", "postgresql.log")]
