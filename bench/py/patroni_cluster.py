"""A Patroni cluster (Debian's patroni 3.0.2): one patroni process per node, run as postgres,
with a YAML written here; etcd through its v3 JSON gateway (Patroni's etcd3 section)."""
import json
import os
import shutil
import time
import urllib.error
import urllib.request

import procs
from cluster import Cluster

BIN_DIR = "/usr/lib/postgresql/15/bin"
PATRONI = "/usr/bin/patroni"


def _y(v):
    return json.dumps(v)  # a JSON scalar is a valid YAML scalar


class PatroniCluster(Cluster):
    system = "patroni"

    def __init__(self, base, label, etcd, dcs, nodes=3, os_users=None):
        """dcs: bootstrap.dcs keys (ttl, loop_wait, retry_timeout, synchronous_mode); {} = Patroni's
        defaults. os_users: see Cluster (each patroni and its postgres run as the node's user)."""
        super().__init__(base, label, etcd, nodes, os_users)
        self.dcs = dcs
        self.sync = bool(dcs.get("synchronous_mode"))
        self.superpw = os.urandom(12).hex()
        self.replpw = os.urandom(12).hex()

    def yaml(self, n):
        dcs = "".join(f"    {k}: {_y(v)}\n" for k, v in self.dcs.items())
        return f"""scope: bench
name: {n.name}
log:
  level: INFO
restapi:
  listen: 127.0.0.1:{n.http}
  connect_address: 127.0.0.1:{n.http}
etcd3:
  hosts: 127.0.0.1:{self.etcd.port}
bootstrap:
  dcs:
{dcs}    postgresql:
      use_pg_rewind: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        wal_keep_size: 256MB
  initdb:
  - data-checksums
  - auth-local: trust
postgresql:
  listen: 127.0.0.1:{n.port}
  connect_address: 127.0.0.1:{n.port}
  data_dir: {n.data_dir}
  bin_dir: {BIN_DIR}
  pgpass: {os.path.join(n.base, 'pgpass')}
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: {_y(self.superpw)}
    replication:
      username: replicator
      password: {_y(self.replpw)}
  parameters:
    unix_socket_directories: {_y(n.socket_dir)}
  pg_hba:
  - local all all trust
  - host replication replicator 127.0.0.1/32 scram-sha-256
  - host all all 127.0.0.1/32 scram-sha-256
"""

    def start_node(self, n):
        conf = os.path.join(n.base, "patroni.yml")
        with open(conf, "w") as f:
            f.write(self.yaml(n))
        shutil.chown(conf, n.user, n.user)
        os.chmod(conf, 0o600)
        n.agent = procs.spawn([PATRONI, conf], os.path.join(n.base, "patroni.log"), user=n.user,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})

    def sync_recorded(self, p):
        # The /sync key, as Patroni's REST API shows it: a member with role sync_standby. Patroni
        # 3.0 sets synchronous_standby_names first and writes the key about 2 s later (ha.py,
        # process_sync_replication); a primary lost in between is not failed over automatically.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p.http}/cluster", timeout=2) as r:
                members = json.loads(r.read().decode()).get("members", [])
        except (OSError, ValueError):
            return False
        return any(m.get("role") == "sync_standby" and m.get("name") != p.name for m in members)

    def switchover(self, old, new):
        body = json.dumps({"leader": old.name, "candidate": new.name}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{old.http}/switchover", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                text = r.read().decode()
                return time.monotonic() - t0, r.status == 200, text
        except urllib.error.HTTPError as e:
            return time.monotonic() - t0, False, f"{e.code} {e.read().decode()}"
        except OSError as e:
            return time.monotonic() - t0, False, str(e)

    def logs(self, n):
        return [os.path.join(n.base, "patroni.log")]
