"""Markdown tables of an overhead JSON-lines file."""
import json
import os
import statistics
import sys

from report import mmm, table


def write(path):
    recs = [json.loads(line) for line in open(path) if line.strip()]
    meta = next((r for r in recs if r.get("kind") == "meta"), {})
    end = next((r for r in recs if r.get("kind") == "end"), {})
    runs = [r for r in recs if r.get("kind") == "pgbench"]
    rows = []
    for mode in ("select-only", "tpcb-like"):
        a = {r["pair"]: r["tps"] for r in runs if r["mode"] == mode and r["system"] == "pg_ha"}
        b = {r["pair"]: r["tps"] for r in runs if r["mode"] == mode and r["system"] == "none"}
        pairs = sorted(set(a) & set(b))
        ratios = [a[p] / b[p] for p in pairs]
        rows.append([mode, len(pairs), mmm([a[p] for p in pairs], "{:.0f}"), mmm([b[p] for p in pairs], "{:.0f}"),
                     mmm(ratios, "{:.3f}")])
    cost = []
    for r in recs:
        if r.get("kind") != "agent":
            continue
        agent = r.get("worker") if r["system"] == "pg_ha" else r.get("patroni")
        side = r.get("sidecar") or {}
        fmt = lambda f: (f"{f.get('cpu_pct')} % / {f.get('rss_mib')} MiB (private {f.get('rss_anon_mib')}, "
                         f"files {f.get('rss_file_mib')}, shm {f.get('rss_shmem_mib')})") if f else "n/a"
        cost.append([r["system"], r["phase"], fmt(agent), fmt(side) if r["system"] == "pg_ha" else "-",
                     fmt(r.get("etcd")), r["etcd_rpcs_per_s"],
                     ", ".join(f"{k} {v}" for k, v in sorted(r.get("etcd_by_method", {}).items()))])
    md = [f"# Overhead benchmark, {meta.get('started', '')}", "",
          f"Machine: {meta.get('cores')} cores; pg_ha {meta.get('commit')}"
          f"{' + ' + str(meta.get('dirty_sources')) + ' uncommitted source files' if meta.get('dirty_sources') else ''}; {meta.get('postgres')}; "
          f"{meta.get('patroni')}; {meta.get('etcd')}; arguments: `{' '.join(meta.get('argv', []))}`; "
          f"took {end.get('seconds')} s; CPU used by other work on the machine meanwhile: "
          f"{end.get('foreign_load_cores')} cores on average.", "",
          f"pgbench `-c {meta.get('clients')} -j {meta.get('threads')} -T {meta.get('seconds')}`, scale "
          f"{meta.get('scale')}, unix socket, one data directory: with pg_ha loaded and configured (single-node "
          "cluster, sidecar, etcd) and without it (same data directory and postgresql.conf, "
          "`shared_preload_libraries=''`), alternating A B A B. Ratio = with / without, per pair; "
          "min / median / max.", "",
          table(["mode", "pairs", "TPS with pg_ha", "TPS without", "ratio"], rows), "",
          "Cost of the HA agent on a single node: CPU % of one core / largest VmRSS, split into private "
          "memory (RssAnon), mapped files (RssFile: binaries and libraries, shared with other processes) and "
          "shared memory (RssShmem: PostgreSQL's shared buffers and pg_ha's segment). "
          "pg_ha: the `pg_ha worker` background worker and `pg_ha_sidecar`; Patroni: the patroni process "
          "(Patroni at ttl 10, loop_wait 1, retry_timeout 3; pg_ha at its defaults, ttl 10, loop 1 s). "
          "etcd requests: gRPC calls handled (the JSON gateway's requests included) per second.", "",
          table(["system", "phase", "worker / patroni", "sidecar", "etcd process", "etcd RPCs/s", "by method (RPCs/s)"], cost)]
    text = "\n".join(md) + "\n"
    with open(os.path.splitext(path)[0] + ".md", "w") as f:
        f.write(text)
    return text


if __name__ == "__main__":
    print(write(sys.argv[1]))
