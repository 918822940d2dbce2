"""bench/faults: partitions, pg_ha and Patroni side by side, 3 nodes on loopback, the same writer.

    faults.py [--runs N] [--quick] [--systems pg_ha,patroni] [--settings defaults,equal]
              [--scenarios isolation,etcd_cut] [--plans pg_ha/defaults,patroni/equal] [--keep] [--tag T]

Each node's agent and postgres run as their own OS user (partition.OsUsers) and links are cut
by socket owner on loopback (partition.Firewall). The writer (root) is never cut: it still
reaches the old primary, so the bench sees whether that one keeps acknowledging.
"""
import argparse
import os
import time

import procs
import report
from failover import HEALTHY_TIMEOUT, HERE, PY, Bench, log
from measure import error_phases, partition_figures, read_acks
from partition import Firewall, OsUsers
from patroni_cluster import PatroniCluster
from pgha_cluster import PgHaCluster

RECOVERY_TIMEOUT = 90.0   # cut -> first commit acknowledged by another node
HOLD_AFTER = 5.0          # the cut stays this long after the new primary's first ack: late acks
REJOIN_TIMEOUT = 120.0    # heal -> every node streaming from the primary again

PLANS = [
    ("pg_ha", "defaults", "ttl 10 s, loop_wait 1 s (pg_ha's defaults = the equal setting)", {}),
    ("patroni", "equal", "ttl 10, loop_wait 1, retry_timeout 3", {"ttl": 10, "loop_wait": 1, "retry_timeout": 3}),
    ("patroni", "defaults", "Patroni's defaults: ttl 30, loop_wait 10, retry_timeout 10", {}),
]
SCENARIOS = ["isolation", "etcd_cut"]


class FaultBench(Bench):
    LOG_KEYS = ("ok", "outage_s", "writable_s", "old_last_ack_s", "old_acks_after_new", "lost", "rejoin_s",
                "new_primary", "foreign_load_cores", "error")

    def __init__(self, args, tmp, out, users, fw):
        super().__init__(args, tmp, out)
        self.users, self.fw = users, fw

    def make_cluster(self, system, d, label, cfg):
        cls = PgHaCluster if system == "pg_ha" else PatroniCluster
        return cls(d, label, self.etcd, cfg, os_users=self.users.names)

    def cut(self, scenario, p):
        """Returns {link: established connections cut}. isolation: p from etcd and both ways
        between p and every other node (PostgreSQL and agent HTTP ports); etcd_cut: p from etcd."""
        uid = self.users.uid
        links = [("etcd", uid(p.user), self.etcd.port)]
        if scenario == "isolation":
            for o in self.cluster.nodes:
                if o is not p:
                    for a, b in ((p, o), (o, p)):
                        links += [(f"{a.name}->{b.name}:pg", uid(a.user), b.port),
                                  (f"{a.name}->{b.name}:http", uid(a.user), b.http)]
        counts = self.fw.cut([(u, port) for _, u, port in links])
        return {name: k for (name, _, _), k in zip(links, counts)}

    def run_one(self, scenario, run):
        c = self.cluster
        t_h = time.monotonic()
        p = c.wait_healthy(HEALTHY_TIMEOUT)
        if p is None:
            return {"ok": False, "error": "cluster not healthy before the run"}
        rec = {"primary": p.name, "rejoin_wait_s": round(time.monotonic() - t_h, 2)}
        first_id = self.next_base * 10**7
        self.next_base += 1
        ackfile = os.path.join(c.dir, f"acks-{scenario}-{run}.txt")
        writer = procs.spawn([PY, os.path.join(HERE, "writer.py"), c.writer_conninfo(), ackfile, str(first_id)],
                             ackfile + ".log")
        foreign = report.ForeignCpu()
        foreign.start()
        t_heal = None
        try:
            if not self.wait_acks(ackfile, lambda a: len(a) >= 50, 20.0):
                return dict(rec, ok=False, error="the writer got no commits through before the fault")
            time.sleep(1.0)
            t_cut = time.monotonic_ns()
            rec["established_cut"] = self.cut(scenario, p)
            rec["cut_took_ms"] = round((time.monotonic_ns() - t_cut) / 1e6, 1)
            recovered = self.wait_acks(ackfile, lambda a: any(x[1] > t_cut and x[2] != p.port for x in a),
                                       RECOVERY_TIMEOUT)
            time.sleep(HOLD_AFTER)
            t_heal = time.monotonic_ns()
            self.fw.heal()
            back = c.wait_healthy(REJOIN_TIMEOUT)
            rec["rejoin_s"] = round((time.monotonic_ns() - t_heal) / 1e9, 2) if back else None
            rec["rejoined"] = back is not None
            time.sleep(1.0)
        finally:
            if t_heal is None:
                self.fw.heal()
            procs.stop(writer, grace=10)
        final = c.primary()
        acks = read_acks(ackfile)
        f = partition_figures(acks, t_cut, t_heal, p.port, self.read_back(first_id))
        f["client_errors"] = error_phases(ackfile + ".err", t_cut)
        newp = c.node_by_port(f["new_primary_port"]) if f["new_primary_port"] else None
        rec.update(f, ok=recovered, t_cut_ns=t_cut, hold_s=HOLD_AFTER, new_primary=newp.name if newp else None,
                   final_primary=final.name if final else None, foreign_load_cores=foreign.stop())
        if not recovered:
            rec["error"] = f"no commit acknowledged by another node within {RECOVERY_TIMEOUT:.0f} s"
        elif not rec["rejoined"]:
            rec["error"] = f"not every node streaming {REJOIN_TIMEOUT:.0f} s after the heal"
        return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 run per scenario")
    ap.add_argument("--systems", default="pg_ha,patroni")
    ap.add_argument("--settings", default="defaults,equal")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--plans", default="", help="only these system/settings pairs, e.g. pg_ha/defaults,patroni/equal")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--tag", default="", help="suffix for the result files")
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
    users = None
    try:
        with report.session("faults", args, runs=args.runs) as (out, tmp):
            users = OsUsers(tmp)
            users.ensure()
            fw = Firewall(tmp)
            bench = FaultBench(args, tmp, out, users, fw)
            try:
                sc = [s for s in SCENARIOS if s in args.scenarios.split(",")]
                for system, label, meaning, cfg in PLANS:
                    picked = f"{system}/{label}" in args.plans.split(",") if args.plans else \
                        system in args.systems.split(",") and label in args.settings.split(",")
                    if picked and sc:
                        bench.plan(system, label, meaning, cfg, sc)
            finally:
                fw.delete()
                bench.teardown()
    finally:
        if users:
            users.remove()   # after report.session stopped every process the bench started
    log(f"done in {out.records[-1]['seconds']} s" + (f"; data in {tmp}" if args.keep else ""))
    import faults_report
    md = faults_report.write(out.path)
    log(f"results: {out.path}\n{md}")


if __name__ == "__main__":
    main()
