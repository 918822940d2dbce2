"""bench/failover: pg_ha and Patroni, one after the other, 3 nodes on loopback, the same writer.

    failover.py [--runs N] [--quick] [--systems pg_ha,patroni] [--settings defaults,equal,pst0,sync]
                [--scenarios postmaster_kill,node_kill,switchover,postmaster_kill_pst0] [--keep]
"""
import argparse
import os
import time

import procs
import report
from etcd import Etcd
from measure import error_phases, figures, read_acks
from patroni_cluster import PatroniCluster
from pgha_cluster import PgHaCluster

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = report.RESULTS
PY = "/usr/bin/python3"
RECOVERY_TIMEOUT = 90.0   # fault -> first commit on a new writable primary
OBSERVE_AFTER = 3.0       # keep writing after recovery, to catch late acks from the old primary
HEALTHY_TIMEOUT = 150.0
CRASH_SPACING = 65.0      # s between two postmaster kills of the same node (see run_one)

# (system, settings label, what it means, cluster factory args, scenarios)
PLANS = [
    ("pg_ha", "defaults", "ttl 10 s, loop_wait 1 s (pg_ha's defaults = the equal setting)", {},
     ["postmaster_kill", "node_kill", "switchover"]),
    ("pg_ha", "pst0", "defaults + primary_start_timeout 0", {"primary_start_timeout": 0},
     ["postmaster_kill_pst0"]),
    ("patroni", "equal", "ttl 10, loop_wait 1, retry_timeout 3", {"ttl": 10, "loop_wait": 1, "retry_timeout": 3},
     ["postmaster_kill", "node_kill", "switchover"]),
    ("patroni", "defaults", "Patroni's defaults: ttl 30, loop_wait 10, retry_timeout 10", {},
     ["postmaster_kill", "node_kill", "switchover"]),
    # Synchronous replication (--settings sync; not in the default run, which would take more
    # than 20 minutes with it): one synchronous standby, non-strict, for both systems.
    ("pg_ha", "sync", "defaults + synchronous_mode on", {"synchronous_mode": "on"},
     ["postmaster_kill", "node_kill"]),
    ("pg_ha", "sync", "defaults + synchronous_mode on + primary_start_timeout 0",
     {"synchronous_mode": "on", "primary_start_timeout": 0}, ["postmaster_kill_pst0"]),
    ("patroni", "sync", "ttl 10, loop_wait 1, retry_timeout 3 + synchronous_mode true",
     {"ttl": 10, "loop_wait": 1, "retry_timeout": 3, "synchronous_mode": True},
     ["postmaster_kill", "node_kill"]),
]


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


class Bench:
    # the figures of a run printed as it ends
    LOG_KEYS = ("ok", "outage_s", "writable_s", "lost", "old_acks_after", "command_s", "new_primary",
                "foreign_load_cores", "error")

    def __init__(self, args, tmp, out):
        self.args, self.tmp, self.out = args, tmp, out
        self.next_base = 1
        self.etcd = self.cluster = None
        self.last_crash = {}

    def build(self, system, label, cfg):
        d = os.path.join(self.tmp, f"{system}-{label}-{int(time.time() * 1000) % 10**8}")
        os.makedirs(d)
        self.etcd = Etcd(d)
        self.cluster = self.make_cluster(system, d, label, cfg)
        t0 = time.monotonic()
        self.cluster.start()
        p = self.cluster.wait_healthy(HEALTHY_TIMEOUT)
        if p is None:
            raise RuntimeError(f"{system}/{label}: cluster not healthy after {HEALTHY_TIMEOUT:.0f} s ({d})")
        self.cluster.prepare_workload(p)
        log(f"{system}/{label}: healthy in {time.monotonic() - t0:.1f} s, primary {p.name}")
        return time.monotonic() - t0

    def make_cluster(self, system, d, label, cfg):
        cls = PgHaCluster if system == "pg_ha" else PatroniCluster
        return cls(d, label, self.etcd, cfg)

    def teardown(self):
        if self.cluster:
            self.cluster.stop()
        if self.etcd:
            procs.stop(self.etcd.proc, grace=10)
        self.cluster = self.etcd = None

    def run_one(self, scenario, run):
        c = self.cluster
        t_h = time.monotonic()
        p = c.wait_healthy(HEALTHY_TIMEOUT)
        if p is None:
            return {"ok": False, "error": "cluster not healthy before the run"}
        rejoin_wait = round(time.monotonic() - t_h, 2)
        if scenario == "postmaster_kill":
            # pg_ha's sidecar backs off restarting a postgres that crashed within the last 60 s
            # (so may Patroni): the in-place restart is measured on a node that has not crashed
            # for CRASH_SPACING seconds, as a first crash. Both systems get the same rule.
            last = self.last_crash.get((c.dir, p.name))
            if last is not None and time.monotonic() - last < CRASH_SPACING:
                wait = CRASH_SPACING - (time.monotonic() - last)
                log(f"waiting {wait:.0f} s: {p.name} crashed {time.monotonic() - last:.0f} s ago")
                time.sleep(wait)
                p = c.wait_healthy(HEALTHY_TIMEOUT)
                if p is None:
                    return {"ok": False, "error": "cluster not healthy before the run"}
        target = sorted((n for n in c.nodes if n is not p), key=lambda n: n.name)[0]
        first_id = self.next_base * 10**7
        self.next_base += 1
        ackfile = os.path.join(c.dir, f"acks-{scenario}-{run}.txt")
        writer = procs.spawn([PY, os.path.join(HERE, "writer.py"), c.writer_conninfo(), ackfile, str(first_id)],
                             ackfile + ".log")
        foreign = report.ForeignCpu()
        foreign.start()
        rec = {"primary": p.name, "rejoin_wait_s": rejoin_wait}
        try:
            if not self.wait_acks(ackfile, lambda a: len(a) >= 50, 20.0):
                return dict(rec, ok=False, error="the writer got no commits through before the fault")
            time.sleep(1.0)
            t_dead = None
            if scenario.startswith("postmaster_kill"):
                t_fault, t_dead = c.kill_postmaster(p)
            elif scenario == "node_kill":
                t_fault, t_dead = c.kill_node(p)
            elif scenario == "switchover":
                t_fault = time.monotonic_ns()
                secs, ok, text = c.switchover(p, target)
                rec.update(command_s=round(secs, 3), command_ok=ok, command_output=text[:300], target=target.name)
            recovered = self.wait_acks(ackfile, lambda a: any(x[1] > t_fault and x[4] > t_fault for x in a),
                                       RECOVERY_TIMEOUT - (time.monotonic_ns() - t_fault) / 1e9)
            time.sleep(OBSERVE_AFTER)
        finally:
            procs.stop(writer, grace=10)
        if scenario == "node_kill":
            c.restart_node(p)  # a fresh agent: no memory of earlier crashes
            self.last_crash.pop((c.dir, p.name), None)
        elif scenario.startswith("postmaster_kill"):
            self.last_crash[(c.dir, p.name)] = time.monotonic()
        acks = read_acks(ackfile)
        f = figures(acks, t_fault, p.port, scenario == "switchover", self.read_back(first_id), t_dead)
        f["client_errors"] = error_phases(ackfile + ".err", t_fault)
        newp = c.node_by_port(f["new_primary_port"]) if f["new_primary_port"] else None
        rec.update(f, ok=recovered, t_fault_ns=t_fault, new_primary=newp.name if newp else None, foreign_load_cores=foreign.stop())
        if not recovered:
            rec["error"] = f"no commit on a new connection within {RECOVERY_TIMEOUT:.0f} s"
        return rec

    def save_logs(self, tag):
        """The last lines of every node's logs, for a run that failed: bench/results/logs/."""
        d = os.path.join(RESULTS, "logs", os.path.basename(self.out.path).rsplit(".", 1)[0], tag)
        os.makedirs(d, exist_ok=True)
        for n in self.cluster.nodes:
            for path in self.cluster.logs(n):
                try:
                    lines = open(path, errors="replace").read().splitlines()[-400:]
                except OSError:
                    continue
                with open(os.path.join(d, f"{n.name}-{os.path.basename(path)}"), "w") as f:
                    f.write("\n".join(lines) + "\n")

    def wait_acks(self, path, cond, timeout):
        end = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                if cond(read_acks(path)):
                    return True
            except OSError:
                pass
            if time.monotonic() >= end:
                return False
            time.sleep(0.1)

    def read_back(self, first_id):
        """Ids of this run present on the writable primary, once there is one (None if none)."""
        end = time.monotonic() + 30
        while time.monotonic() < end:
            p = self.cluster.primary()
            if p is not None:
                try:
                    rows = self.cluster.sql(p, "SELECT id FROM bench_writes WHERE id >= %s AND id < %s",
                                            (first_id, first_id + 10**7))
                    return {r[0] for r in rows}
                except Exception:  # noqa: BLE001 - retried until the deadline
                    pass
            time.sleep(0.5)
        return None

    def plan(self, system, label, meaning, cfg, scenarios):
        try:
            boot_s = self.build(system, label, cfg)
        except Exception as e:  # noqa: BLE001 - recorded, the next plan still runs
            log(f"{system}/{label}: {e}")
            self.out.add({"kind": "boot", "system": system, "settings": label, "ok": False, "error": str(e)})
            self.teardown()
            return
        handled, received, methods = self.etcd.rates(10.0)
        self.out.add({"kind": "idle_etcd", "system": system, "settings": label, "meaning": meaning,
                      "boot_s": round(boot_s, 1), "etcd_rpcs_per_s": round(handled, 1),
                      "etcd_msgs_per_s": round(received, 1), "etcd_by_method": methods,
                      "nodes": len(self.cluster.nodes)})
        rebuilds = 0
        # Rounds: each run does every scenario once, so that repeated faults are spread out.
        for run in range(1, self.args.runs + 1):
            for scenario in scenarios:
                rec = {"kind": "run", "system": system, "settings": label, "meaning": meaning,
                       "scenario": scenario, "run": run, "load1": report.other_load()}
                try:
                    rec.update(self.run_one(scenario, run))
                except Exception as e:  # noqa: BLE001
                    rec.update(ok=False, error=f"{type(e).__name__}: {e}")
                self.out.add(rec)
                log(f"{system}/{label} {scenario} #{run}: " + ", ".join(
                    f"{k}={rec.get(k)}" for k in self.LOG_KEYS if k in rec))
                if not rec.get("ok") or rec.get("rejoined") is False:   # rejoined: bench/faults
                    self.save_logs(f"{system}-{label}-{scenario}-{run}")
                if not rec.get("ok") and rebuilds < 2:
                    if self.cluster.wait_healthy(60) is None:
                        log(f"{system}/{label}: rebuilding the cluster")
                        rebuilds += 1
                        self.teardown()
                        try:
                            self.build(system, label, cfg)
                        except Exception as e:  # noqa: BLE001
                            log(str(e))
                            self.teardown()
                            return
        self.teardown()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 run per scenario")
    ap.add_argument("--systems", default="pg_ha,patroni")
    ap.add_argument("--settings", default="defaults,equal,pst0")
    ap.add_argument("--scenarios", default="postmaster_kill,node_kill,switchover,postmaster_kill_pst0")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--tag", default="", help="suffix for the result files")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
    with report.session("failover", args, runs=args.runs) as (out, tmp):
        bench = Bench(args, tmp, out)
        try:
            for system, label, meaning, cfg, scenarios in PLANS:
                sc = [s for s in scenarios if s in args.scenarios.split(",")]
                if system in args.systems.split(",") and label in args.settings.split(",") and sc:
                    bench.plan(system, label, meaning, cfg, sc)
        finally:
            bench.teardown()
    log(f"done in {out.records[-1]['seconds']} s" + (f"; data in {tmp}" if args.keep else ""))
    import failover_report
    md = failover_report.write(out.path)
    log(f"results: {out.path}\n{md}")


if __name__ == "__main__":
    main()
