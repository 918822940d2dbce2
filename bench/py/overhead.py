"""bench/overhead: what pg_ha costs a server.

1. pgbench (select-only -S and the default TPC-B-like mix) alternately (A B A B ...) against
   PostgreSQL with pg_ha loaded and configured (a single-node pg_ha cluster: sidecar + etcd) and
   against a copy of its data directory started with the same postgresql.conf but
   shared_preload_libraries='' (both servers run all along, only one is benchmarked at a time):
   TPS ratio and server CPU per transaction per pair.
2. The HA agent's cost, idle and under pgbench: pg_ha worker and sidecar CPU % and RSS, etcd
   requests/s; next to a single-node Patroni at the same loop settings (ttl 10, loop_wait 1).

    overhead.py [--pairs N] [--seconds S] [--clients C] [--threads J] [--scale K] [--quick]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import time

import procs
import report
from etcd import Etcd
from patroni_cluster import PatroniCluster
from pgha_cluster import PgHaCluster
from sampler import Sampler, cpu_ticks

BIN = os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin")
MODES = {"select-only": ["-S"], "tpcb-like": []}


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def server_cpu_s(node):
    """CPU seconds used so far by the server: the postmaster with its reaped children (cutime,
    cstime: backends that have exited) plus the children still running."""
    pm = procs.postmaster_pid(node.data_dir)
    if not pm:
        return None
    kids = [p for p in procs.tree([pm]) if p != pm]
    with open(f"/proc/{pm}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = sum(int(x) for x in fields[11:15])
    total += sum(cpu_ticks(p) or 0 for p in kids)
    return total / os.sysconf("SC_CLK_TCK")


def pgbench(node, args, seconds, mode, on_poll=None):
    """Runs pgbench; returns {tps, transactions, cpu_us_per_tx}: the server's CPU per transaction
    changes much less than TPS when other work competes for the machine's cores."""
    cpu0 = server_cpu_s(node)
    cmd = [f"{BIN}/pgbench", "-h", node.socket_dir, "-p", str(node.port), "-U", "postgres", "-n",
           "-c", str(args.clients), "-j", str(args.threads), "-T", str(seconds)] + MODES[mode] + ["postgres"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs.record_pid(p.pid)
    while p.poll() is None:
        if on_poll:
            on_poll()
        time.sleep(1.0)
    out = p.stdout.read()
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    n = re.search(r"number of transactions actually processed: ([0-9]+)", out)
    if p.returncode != 0 or not m or not n:
        raise RuntimeError(f"pgbench failed ({p.returncode}): {out[-800:]}")
    time.sleep(0.5)  # the backends exit and are reaped into the postmaster's cutime
    cpu1 = server_cpu_s(node)
    tx = int(n.group(1))
    return {"tps": float(m.group(1)), "transactions": tx,
            "cpu_us_per_tx": round((cpu1 - cpu0) * 1e6 / tx, 1) if cpu0 is not None and cpu1 and tx else None}


class Plain:
    """PostgreSQL without pg_ha: a copy of the pg_ha node's data directory, started directly with
    the same postgresql.conf, only its port, socket directory and shared_preload_libraries=''."""

    def __init__(self, src, base):
        self.base = base
        self.data_dir = os.path.join(base, "data")
        self.socket_dir = os.path.join(base, "run")
        self.port = procs.free_port()
        self.conf = os.path.join(src.base, "state", "postgresql.conf")
        self.proc = None
        os.makedirs(self.socket_dir, exist_ok=True)
        subprocess.run(["cp", "-a", src.data_dir, self.data_dir], check=True)
        for path in (base, self.socket_dir):
            shutil.chown(path, "postgres", "postgres")
        os.chmod(self.socket_dir, 0o700)

    def start(self):
        self.proc = procs.spawn([f"{BIN}/postgres", "-D", self.data_dir, "-c", f"config_file={self.conf}",
                                 "-c", f"port={self.port}", "-c", f"unix_socket_directories={self.socket_dir}",
                                 "-c", "cluster_name=plain", "-c", "shared_preload_libraries="],
                                os.path.join(self.base, "postgres.log"), user="postgres")
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if subprocess.run([f"{BIN}/pg_isready", "-q", "-h", self.socket_dir, "-p", str(self.port)]).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("plain postgres did not start: see " + self.base + "/postgres.log")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            self.proc.wait(60)


def agent_cost(out, system, phase, sampler, etcd_before, etcd_after, seconds, extra=None):
    figs = sampler.stop()
    (h0, r0), m0 = etcd_before
    (h1, r1), m1 = etcd_after
    rec = {"kind": "agent", "system": system, "phase": phase, "seconds": round(seconds, 1),
           "etcd_rpcs_per_s": round((h1 - h0) / seconds, 2), "etcd_msgs_per_s": round((r1 - r0) / seconds, 2),
           "etcd_by_method": {k: round((v - m0.get(k, 0.0)) / seconds, 2) for k, v in m1.items()
                              if v > m0.get(k, 0.0)}}
    rec.update({k: v for k, v in figs.items()})
    rec.update(extra or {})
    out.add(rec)
    log(f"{system} {phase}: " + ", ".join(f"{k}={v}" for k, v in rec.items() if k not in ("kind",)))
    return rec


def measure_idle(out, system, pids, etcd, seconds):
    s = Sampler(pids)
    e0 = (etcd.counters(), etcd.by_method())
    s.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(1.0)
        s.poll()
    return agent_cost(out, system, "idle", s, e0, (etcd.counters(), etcd.by_method()), time.monotonic() - t0)


def busy(out, system, node, pids, etcd, args, mode):
    s = Sampler(pids)
    e0 = (etcd.counters(), etcd.by_method())
    s.start()
    t0 = time.monotonic()
    r = pgbench(node, args, args.seconds, mode, on_poll=s.poll)
    return r, agent_cost(out, system, f"busy {mode}", s, e0, (etcd.counters(), etcd.by_method()), time.monotonic() - t0)


def pgha_pids(c, n):
    # PostgreSQL's own logical replication launcher: a background worker that does next to nothing,
    # for what RSS any background worker shows.
    return {"worker": c.worker_pid(n), "sidecar": n.agent.pid if n.agent else None, "etcd": c.etcd.proc.pid,
            "launcher": c.worker_pid(n, b"logical replication launcher")}


def run(args, tmp, out):
    # --- pg_ha single node, and a copy of its data directory run without pg_ha, side by side
    d = os.path.join(tmp, "pg_ha")
    os.makedirs(d)
    etcd = Etcd(d)
    c = PgHaCluster(d, "single", etcd, {}, nodes=1)
    n = c.nodes[0]
    c.start()
    if c.wait_healthy(120) is None:
        raise RuntimeError("single-node pg_ha did not become a writable primary")
    subprocess.run([f"{BIN}/pgbench", "-i", "-q", "-s", str(args.scale), "-h", n.socket_dir, "-p", str(n.port),
                    "-U", "postgres", "postgres"], check=True, capture_output=True)
    procs.stop(n.agent, grace=60)  # a clean copy of the data directory
    plain = Plain(n, os.path.join(tmp, "plain"))
    c.start_node(n)
    plain.start()
    if c.wait_healthy(120) is None:
        raise RuntimeError("pg_ha did not come back as a writable primary")
    log(f"pg_ha single node and a plain copy up, pgbench scale {args.scale} loaded")
    measure_idle(out, "pg_ha", pgha_pids(c, n), etcd, args.idle)
    for server in (n, plain):
        pgbench(server, args, args.warmup, "tpcb-like")
        pgbench(server, args, args.warmup, "select-only")
    for server in (n, plain):  # no write-back left over from the warm-up into the first runs
        subprocess.run([f"{BIN}/psql", "-X", "-q", "-h", server.socket_dir, "-p", str(server.port), "-U", "postgres",
                        "-d", "postgres", "-c", "CHECKPOINT"], check=True, capture_output=True)
    # One mode at a time, short slices A B A B: both servers see the machine's load as nearly as
    # possible, and each TPC-B run follows the other server's (its write-back and autovacuum
    # fall on both alike).
    for mode in MODES:
        for pair in range(1, args.pairs + 1):
            for system, server in (("pg_ha", n), ("none", plain)):
                fc = report.ForeignCpu()
                fc.start()
                if system == "pg_ha":
                    r, _ = busy(out, "pg_ha", n, pgha_pids(c, n), etcd, args, mode)
                else:
                    r = pgbench(server, args, args.seconds, mode)
                out.add(dict(r, kind="pgbench", pair=pair, system=system, mode=mode,
                             foreign_load_cores=fc.stop()))
                log(f"pair {pair} {system} {mode}: {r['tps']:.0f} tps, {r['cpu_us_per_tx']} us CPU/tx")
    plain.stop()
    c.stop()
    procs.stop(etcd.proc)

    # --- Patroni single node at the same loop settings
    d = os.path.join(tmp, "patroni")
    os.makedirs(d)
    etcd = Etcd(d)
    pc = PatroniCluster(d, "single", etcd, {"ttl": 10, "loop_wait": 1, "retry_timeout": 3}, nodes=1)
    pn = pc.nodes[0]
    pc.start()
    if pc.wait_healthy(120) is None:
        raise RuntimeError("single-node Patroni did not become a primary")
    subprocess.run([f"{BIN}/pgbench", "-i", "-q", "-s", str(args.scale), "-h", pn.socket_dir, "-p", str(pn.port),
                    "-U", "postgres", "postgres"], check=True, capture_output=True)
    log("Patroni single node up")
    ppids = {"patroni": pn.agent.pid, "etcd": etcd.proc.pid}
    measure_idle(out, "patroni", ppids, etcd, args.idle)
    for mode in MODES:
        busy(out, "patroni", pn, ppids, etcd, args, mode)
    pc.stop()
    procs.stop(etcd.proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--idle", type=int, default=20)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="1 pair of 5 s runs, 5 s idle")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if args.quick:
        args.pairs, args.seconds, args.warmup, args.idle = 1, 5, 2, 5
    with report.session("overhead", args, pairs=args.pairs, seconds=args.seconds, clients=args.clients,
                        threads=args.threads, scale=args.scale) as (out, tmp):
        run(args, tmp, out)
    import overhead_report
    log(f"results: {out.path}\n" + overhead_report.write(out.path))


if __name__ == "__main__":
    main()
