"""bench/status_cost: what one call of a pg_ha status function costs on a running node.

The worker publishes the node's status as one JSON text in shared memory; every status function
copies it under a lock and parses it (extension/sql_api/snapshot_reader.cpp). This measures that
cost on the primary and a replica of a 3-node cluster (sidecars + etcd on loopback):
1. in the server: a PL/pgSQL loop of N calls of each function (plans cached), minus the same loop
   over a 3-row generate_series: microseconds per call, the figure docs/sql-api.md ("Cost") quotes;
2. from a client: pgbench -f with one call per transaction against `SELECT 1`.

    status_cost.py [--calls N] [--rounds R] [--seconds S]
"""
import argparse
import os
import statistics
import subprocess
import time

import report
from etcd import Etcd
from pgha_cluster import PgHaCluster

BIN = os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin")

# One static statement per function: a PL/pgSQL loop caches its plans, so each iteration is one
# executor run of the function, as a prepared client query would be.
FUNCTIONS = {
    "baseline": "SELECT count(*) INTO k FROM generate_series(1, 3)",
    "node_status": "SELECT count(*) INTO k FROM pg_ha.node_status()",
    "members": "SELECT count(*) INTO k FROM pg_ha.members()",
    "cluster": "SELECT count(*) INTO k FROM pg_ha.cluster()",
    "history": "SELECT count(*) INTO k FROM pg_ha.history()",
    "config": "SELECT count(*) INTO k FROM pg_ha.config()",
    "health_primary": "SELECT count(*) INTO k FROM pg_ha.health_primary()",
    "health_replica": "SELECT count(*) INTO k FROM pg_ha.health_replica()",
}


def loop_function():
    cases = "\n".join(f"      WHEN '{name}' THEN {stmt};" for name, stmt in FUNCTIONS.items())
    return f"""CREATE OR REPLACE FUNCTION public.pg_ha_status_cost(fn text, n int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; k bigint;
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1..n LOOP
    CASE fn
{cases}
    END CASE;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
END $$"""


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def in_server(c, node, role, args, out):
    """Median of `rounds` loops per function; the baseline's median is subtracted."""
    rows = {}
    for name in FUNCTIONS:
        c.sql(node, "SELECT public.pg_ha_status_cost(%s, 50)", (name,))   # warm: plans, caches
        us = [float(c.sql(node, "SELECT public.pg_ha_status_cost(%s, %s)", (name, args.calls))[0][0])
              for _ in range(args.rounds)]
        rows[name] = us
    base = statistics.median(rows["baseline"])
    for name, us in rows.items():
        net = [u - base for u in us] if name != "baseline" else us
        out.add({"kind": "in_server", "node": role, "function": name, "calls": args.calls,
                 "us_per_call": us, "us_net_median": round(statistics.median(net), 1)})
        log(f"{role} {name}: {report.mmm(us, '{:.1f}')} us per call (min / median / max of {args.rounds}), "
            f"net of the loop {statistics.median(net):.1f} us")


def pgbench(node, query, seconds, tmp):
    script = os.path.join(tmp, "status_cost.sql")
    with open(script, "w") as f:
        f.write(query + ";\n")
    os.chmod(script, 0o644)
    r = subprocess.run([f"{BIN}/pgbench", "-n", "-M", "prepared", "-c", "1", "-T", str(seconds), "-f", script,
                        "-h", node.socket_dir, "-p", str(node.port), "-U", "postgres", "postgres"],
                       check=True, capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("latency average"):
            return float(line.split("=")[1].split()[0]) * 1000.0   # ms -> us
    raise RuntimeError("pgbench printed no latency: " + r.stdout)


def from_client(node, role, args, tmp, out):
    for name, query in (("select_1", "SELECT 1"), ("members", "SELECT * FROM pg_ha.members()"),
                        ("cluster", "SELECT * FROM pg_ha.cluster()"),
                        ("health_primary", "SELECT * FROM pg_ha.health_primary()")):
        us = pgbench(node, query, args.seconds, tmp)
        out.add({"kind": "pgbench", "node": role, "query": query, "latency_us": round(us, 1)})
        log(f"{role} pgbench -c 1 '{query}': {us:.1f} us average latency")


def snapshot_bytes(c, node):
    """About the size of the JSON every call parses: node, members, cluster and history as JSON."""
    q = ("SELECT length((SELECT json_agg(s) FROM pg_ha.node_status() s)::text) + "
         "length((SELECT json_agg(m) FROM pg_ha.members() m)::text) + "
         "length((SELECT json_agg(c) FROM pg_ha.cluster() c)::text) + "
         "coalesce(length((SELECT json_agg(h) FROM pg_ha.history() h)::text), 0)")
    return int(c.sql(node, q)[0][0])


def run(args, tmp, out):
    etcd = Etcd(tmp)
    c = PgHaCluster(tmp, "status", etcd, {}, nodes=3)
    c.start()
    p = c.wait_healthy(180)
    if p is None:
        raise RuntimeError("the 3-node pg_ha cluster did not become healthy")
    c.sql(p, loop_function())
    replica = next(n for n in c.nodes if n is not p)
    time.sleep(2)   # the function reaches the replica
    for node, role in ((p, "primary"), (replica, "replica")):
        size = snapshot_bytes(c, node)
        out.add({"kind": "snapshot", "node": role, "approx_bytes": size})
        log(f"{role}: status about {size} bytes of JSON")
        in_server(c, node, role, args, out)
        from_client(node, role, args, tmp, out)
    c.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000, help="calls per loop")
    ap.add_argument("--rounds", type=int, default=5, help="loops per function")
    ap.add_argument("--seconds", type=int, default=5, help="pgbench run per query")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    with report.session("status_cost", args, calls=args.calls, rounds=args.rounds) as (out, tmp):
        run(args, tmp, out)
    log(f"results: {out.path}")


if __name__ == "__main__":
    main()
