"""bench/sync_latency: what synchronous replication costs a commit, measured with pgbench.

A 3-node cluster on loopback (pg_ha at its defaults; Patroni at ttl 10 / loop_wait 1 /
retry_timeout 3), pgbench scale 10 loaded through the primary, then the default TPC-B-like script
(`-c 4 -j 2 -T S`, no -P) against the primary over its unix socket, with the replication mode
switched at run time between runs, alternating A B (C) A B (C) ...:

    pg_ha:   synchronous_mode off / on / quorum   (SELECT pg_ha.set_config(...) on the primary)
    Patroni: synchronous_mode false / true          (PATCH /config on its REST API)

Before each run the bench waits until the primary shows the mode in force (pg_stat_replication's
sync_state; pg_ha: also the recorded set in pg_ha.cluster()), then runs a CHECKPOINT so that no
run inherits the write-back of the one before it.

    sync_latency.py [--pairs N] [--seconds S] [--systems pg_ha,patroni] [--modes off,on,quorum] [--quick]
"""
import argparse
import json
import os
import re
import subprocess
import time
import urllib.request

import procs
import report
from etcd import Etcd
from patroni_cluster import PatroniCluster
from pgha_cluster import PgHaCluster

BIN = os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin")
SETTLE_TIMEOUT = 60.0


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def pgbench(node, args, seconds):
    cmd = [f"{BIN}/pgbench", "-h", node.socket_dir, "-p", str(node.port), "-U", "postgres", "-n",
           "-c", str(args.clients), "-j", str(args.threads), "-T", str(seconds), "postgres"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    procs.record_pid(p.pid)
    out, _ = p.communicate()
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    lat = re.search(r"latency average = ([0-9.]+) ms", out)
    n = re.search(r"number of transactions actually processed: ([0-9]+)", out)
    failed = re.search(r"number of failed transactions: ([0-9]+)", out)
    if p.returncode != 0 or not tps or not lat or not n:
        raise RuntimeError(f"pgbench failed ({p.returncode}): {out[-800:]}")
    return {"tps": float(tps.group(1)), "latency_ms": float(lat.group(1)), "transactions": int(n.group(1)),
            "failed": int(failed.group(1)) if failed else 0}


def wait_for(cond, timeout=SETTLE_TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if cond():
                return True
        except Exception:  # noqa: BLE001 - retried until the deadline
            pass
        time.sleep(0.25)
    return False


def sync_rows(c, p):
    """(sync_state of every streaming standby, synchronous_standby_names) on the primary."""
    states = [r[0] for r in c.sql(p, "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'")]
    return states, c.sql(p, "SHOW synchronous_standby_names")[0][0]


class PgHaModes:
    system = "pg_ha"
    settings = "defaults (ttl 10 s, loop_wait 1 s)"

    def __init__(self, c):
        self.c = c

    def set(self, p, mode):
        self.c.sql(p, "SELECT pg_ha.set_config(%s)", (json.dumps({"synchronous_mode": mode}),))

    def in_force(self, p, mode):
        states, ssn = sync_rows(self.c, p)
        rec = self.c.sql(p, "SELECT coalesce(array_length(sync_standbys, 1), 0) FROM pg_ha.cluster()")[0][0]
        if mode == "off":
            return ssn == "" and rec == 0 and len(states) == 2
        if mode == "on":  # one standby recorded and named (pg_ha writes 'ANY 1 ("nodeX")': PostgreSQL
            # then reports it as 'quorum'), the other one asynchronous
            return rec == 1 and ssn.startswith("ANY 1 (") and ssn.count('"') == 2 and \
                sorted(states) == ["async", "quorum"]
        if mode == "quorum":  # ANY 1 of both standbys
            return rec == 2 and ssn.startswith("ANY 1") and states.count("quorum") == 2
        raise ValueError(mode)


class PatroniModes:
    system = "patroni"
    settings = "ttl 10, loop_wait 1, retry_timeout 3"

    def __init__(self, c):
        self.c = c

    def set(self, p, mode):
        body = json.dumps({"synchronous_mode": {"off": False, "on": True}[mode]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{p.http}/config", data=body, method="PATCH",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def in_force(self, p, mode):
        states, ssn = sync_rows(self.c, p)
        if mode == "off":
            return ssn == "" and len(states) == 2
        return ssn != "" and states.count("sync") == 1


def measure(out, args, tmp, system):
    d = os.path.join(tmp, system)
    os.makedirs(d)
    etcd = Etcd(d)
    if system == "pg_ha":
        c = PgHaCluster(d, "latency", etcd, {})
        ctl = PgHaModes(c)
        modes = [m for m in args.modes.split(",") if m in ("off", "on", "quorum")]
    else:
        c = PatroniCluster(d, "latency", etcd, {"ttl": 10, "loop_wait": 1, "retry_timeout": 3})
        ctl = PatroniModes(c)
        modes = [m for m in args.modes.split(",") if m in ("off", "on")]  # Patroni 3.0 has no quorum mode
    try:
        c.start()
        p = c.wait_healthy(150)
        if p is None:
            raise RuntimeError(f"{system}: 3-node cluster not healthy")
        subprocess.run([f"{BIN}/pgbench", "-i", "-q", "-s", str(args.scale), "-h", p.socket_dir, "-p", str(p.port),
                        "-U", "postgres", "postgres"], check=True, capture_output=True)
        log(f"{system}: 3 nodes up, primary {p.name}, pgbench scale {args.scale} loaded")
        for mode in modes:  # warm-up, one short run in each mode
            ctl.set(p, mode)
            if not wait_for(lambda: ctl.in_force(p, mode)):
                raise RuntimeError(f"{system}: synchronous_mode {mode} not in force after {SETTLE_TIMEOUT:.0f} s: "
                                   f"{sync_rows(c, p)}")
            pgbench(p, args, args.warmup)
        for pair in range(1, args.pairs + 1):
            for mode in modes:
                t0 = time.monotonic()
                ctl.set(p, mode)
                if not wait_for(lambda: ctl.in_force(p, mode)):
                    raise RuntimeError(f"{system}: synchronous_mode {mode} not in force after {SETTLE_TIMEOUT:.0f} s: "
                                       f"{sync_rows(c, p)}")
                settle = time.monotonic() - t0
                states, ssn = sync_rows(c, p)
                c.sql(p, "CHECKPOINT")
                fc = report.ForeignCpu()
                fc.start()
                r = pgbench(p, args, args.seconds)
                # still the same mode at the end (nothing replaced the standby or the primary)
                end_ok = ctl.in_force(p, mode) and c.primary() is p
                rec = dict(r, kind="pgbench", system=system, settings=ctl.settings, mode=mode, pair=pair,
                           settle_s=round(settle, 2), synchronous_standby_names=ssn, sync_states=states,
                           mode_held=end_ok, foreign_load_cores=fc.stop(), load1=report.other_load())
                out.add(rec)
                log(f"{system} pair {pair} {mode}: {r['tps']:.0f} tps, {r['latency_ms']:.3f} ms, "
                    f"other load {rec['foreign_load_cores']}, ssn '{ssn}'")
    finally:
        c.stop()
        procs.stop(etcd.proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--systems", default="pg_ha,patroni")
    ap.add_argument("--modes", default="off,on,quorum")
    ap.add_argument("--quick", action="store_true", help="1 round of 5 s runs")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if args.quick:
        args.pairs, args.seconds, args.warmup = 1, 5, 2
    with report.session("sync_latency", args, pairs=args.pairs, seconds=args.seconds, clients=args.clients,
                        threads=args.threads, scale=args.scale) as (out, tmp):
        for system in ("pg_ha", "patroni"):
            if system in args.systems.split(","):
                try:
                    measure(out, args, tmp, system)
                except Exception as e:  # noqa: BLE001 - recorded, the next system still runs
                    log(f"{system}: {type(e).__name__}: {e}")
                    out.add({"kind": "error", "system": system, "error": f"{type(e).__name__}: {e}"})
    import sync_latency_report
    log(f"results: {out.path}\n" + sync_latency_report.write(out.path))


if __name__ == "__main__":
    main()
