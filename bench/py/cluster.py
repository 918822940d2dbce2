"""What both systems' clusters share: nodes on loopback, health checks over HTTP (both serve
/primary and /replica), superuser SQL over the node's private unix socket, and the faults."""
import os
import shutil
import time
import urllib.error
import urllib.request

import psycopg2

import procs

APP_PASSWORD = "bench-app-" + os.urandom(6).hex()


class Node:
    def __init__(self, cluster, i, user="postgres"):
        self.name = f"node{i + 1}"
        self.user = user  # the OS user its agent and postgres run as (one per node: bench/faults)
        self.base = os.path.join(cluster.dir, self.name)
        self.data_dir = os.path.join(self.base, "data")
        self.socket_dir = os.path.join(self.base, "run")
        self.port = procs.free_port()
        self.http = procs.free_port()
        self.agent = None  # the sidecar or patroni process
        os.makedirs(self.socket_dir, exist_ok=True)


class Cluster:
    system = "?"
    sync = False  # synchronous replication configured: healthy() also wants a synchronous standby

    def __init__(self, base, label, etcd, nodes=3, os_users=None):
        """os_users: one OS user per node (bench/faults cuts links by socket owner); None = all
        nodes run as postgres."""
        self.label = label
        self.dir = os.path.join(base, f"{self.system}-{label}")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.etcd = etcd
        self.nodes = [Node(self, i, os_users[i] if os_users else "postgres") for i in range(nodes)]
        if not os_users:
            shutil.chown(self.dir, "postgres", "postgres")
        for n in self.nodes:
            for d in (n.base, n.socket_dir):
                shutil.chown(d, n.user, n.user)
            os.chmod(n.socket_dir, 0o700)

    # --- provided by each system
    def start_node(self, n):
        raise NotImplementedError

    def sync_recorded(self, p):
        """Synchronous mode: the system's record in etcd names a standby that may be promoted."""
        raise NotImplementedError

    def switchover(self, old, new):
        """Asks for a planned switchover; returns (seconds until the command returned, ok, text)."""
        raise NotImplementedError

    # --- shared
    def start(self):
        for n in self.nodes:
            self.start_node(n)

    def http_ok(self, n, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{n.http}{path}", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def primary(self):
        """The node whose agent says it is the writable primary, if exactly one does."""
        ps = [n for n in self.nodes if self.http_ok(n, "/primary")]
        return ps[0] if len(ps) == 1 else None

    def healthy(self):
        p = self.primary()
        if p is None:
            return None
        if not all(self.http_ok(n, "/replica") for n in self.nodes if n is not p):
            return None
        try:
            if int(self.sql(p, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")[0][0]) \
                    < len(self.nodes) - 1:
                return None
            # Synchronous mode: a run starts only once the primary waits for a standby again (after
            # a failover the new primary names one within a loop or two) and the system's own
            # record in etcd names that standby as promotable (sync_recorded): before that, the
            # first commits of the run would be acknowledged by the primary alone, and neither
            # system fails over automatically then (both wait for the old primary).
            if self.sync and (int(self.sql(p, "SELECT count(*) FROM pg_stat_replication "
                                              "WHERE sync_state IN ('sync', 'quorum')")[0][0]) < 1
                              or not self.sync_recorded(p)):
                return None
        except psycopg2.Error:
            return None
        return p

    def wait_healthy(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p = self.healthy()
            if p is not None:
                return p
            time.sleep(0.25)
        return None

    def dsn(self, n, timeout=2):
        return f"host={n.socket_dir} port={n.port} user=postgres dbname=postgres connect_timeout={timeout}"

    def sql(self, n, query, args=None):
        conn = psycopg2.connect(self.dsn(n))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def writer_conninfo(self):
        hosts = ",".join("127.0.0.1" for _ in self.nodes)
        ports = ",".join(str(n.port) for n in self.nodes)
        return (f"host={hosts} port={ports} user=app password={APP_PASSWORD} dbname=postgres "
                "connect_timeout=1 target_session_attrs=read-write")

    def prepare_workload(self, p):
        self.sql(p, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN "
                    f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}'; END IF; END $$")
        self.sql(p, "CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now())")
        self.sql(p, "GRANT INSERT, SELECT ON bench_writes TO app")

    def node_by_port(self, port):
        return next((n for n in self.nodes if n.port == port), None)

    def postmaster(self, n):
        pid = procs.postmaster_pid(n.data_dir)
        if pid:
            procs.record_pid(pid)
        return pid

    def kill_postmaster(self, n):
        """kill -9 of the postmaster. Returns (ns just before the signal, ns when the kernel
        reported the postmaster gone): a loaded machine takes milliseconds to carry out a kill."""
        pid = self.postmaster(n)
        if not pid:
            raise RuntimeError(f"{n.name}: no postmaster to kill")
        fd = os.pidfd_open(pid)
        try:
            t = time.monotonic_ns()
            os.kill(pid, 9)
            return t, procs.wait_pidfd(fd)
        finally:
            os.close(fd)

    def kill_node(self, n):
        """Every process of the node (agent, postmaster, backends) frozen, then SIGKILLed together.
        Returns (ns just before the first signal, ns when the postmaster was gone)."""
        pm = self.postmaster(n)
        fd = os.pidfd_open(pm)
        try:
            t = procs.kill_together([n.agent.pid if n.agent else None, pm])
            return t, procs.wait_pidfd(fd)
        finally:
            os.close(fd)

    def restart_node(self, n):
        self.start_node(n)

    def agent_alive(self, n):
        return n.agent is not None and n.agent.poll() is None

    def stop(self):
        for n in self.nodes:
            if n.agent is not None:
                procs.stop(n.agent, grace=30)
        for n in self.nodes:  # a postmaster its agent left behind
            pid = procs.postmaster_pid(n.data_dir)
            if pid:
                procs.kill_together([pid])
