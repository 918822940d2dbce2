"""Markdown tables of an overhead JSON-lines file."""
import statistics
import sys

from report import mmm, read_records, table, write_markdown


def write(path):
    recs, meta, end = read_records(path)
    runs = [r for r in recs if r.get("kind") == "pgbench"]
    rows = []
    for mode in ("select-only", "tpcb-like"):
        a = {r["pair"]: r["tps"] for r in runs if r["mode"] == mode and r["system"] == "pg_ha"}
        b = {r["pair"]: r["tps"] for r in runs if r["mode"] == mode and r["system"] == "none"}
        pairs = sorted(set(a) & set(b))
        ratios = [a[p] / b[p] for p in pairs]
        ca = {r["pair"]: r.get("cpu_us_per_tx") for r in runs if r["mode"] == mode and r["system"] == "pg_ha"}
        cb = {r["pair"]: r.get("cpu_us_per_tx") for r in runs if r["mode"] == mode and r["system"] == "none"}
        cpairs = [p for p in pairs if ca.get(p) and cb.get(p)]
        loads = [r.get("foreign_load_cores") for r in runs if r["mode"] == mode and r.get("foreign_load_cores") is not None]
        rows.append([mode, len(pairs), mmm([a[p] for p in pairs], "{:.0f}"), mmm([b[p] for p in pairs], "{:.0f}"),
                     mmm(ratios, "{:.3f}"), mmm([ca[p] for p in cpairs], "{:.0f}"), mmm([cb[p] for p in cpairs], "{:.0f}"),
                     mmm([cb[p] / ca[p] for p in cpairs], "{:.3f}"),
                     mmm(loads, "{:.2f}")])
    cost = []
    groups = {}
    for r in recs:
        if r.get("kind") == "agent":
            groups.setdefault((r["system"], r["phase"]), []).append(r)

    def agg(rs, key):
        fs = [r.get(key) for r in rs if r.get(key)]
        if not fs:
            return "n/a"
        med = lambda f: statistics.median([x[f] for x in fs if x.get(f) is not None])
        top = lambda f: max(x[f] for x in fs if x.get(f) is not None)
        return (f"{med('cpu_pct'):.2f} % / {top('rss_mib')} MiB (private {top('rss_anon_mib')}, "
                f"files {top('rss_file_mib')}, shm {top('rss_shmem_mib')})")

    for (system, phase), rs in groups.items():
        methods = {}
        for r in rs:
            for k, v in r.get("etcd_by_method", {}).items():
                methods.setdefault(k, []).append(v)
        cost.append([system, phase, len(rs), agg(rs, "worker" if system == "pg_ha" else "patroni"),
                     agg(rs, "launcher") if system == "pg_ha" else "-",
                     agg(rs, "sidecar") if system == "pg_ha" else "-", agg(rs, "etcd"),
                     f"{statistics.median([r['etcd_rpcs_per_s'] for r in rs]):.2f}",
                     ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in sorted(methods.items()))])
    md = [f"# Overhead benchmark, {meta.get('started', '')}", "",
          f"Machine: {meta.get('cores')} cores; pg_ha {meta.get('commit')}"
          f"{' + ' + str(meta.get('dirty_sources')) + ' uncommitted source files' if meta.get('dirty_sources') else ''}; {meta.get('postgres')}; "
          f"{meta.get('patroni')}; {meta.get('etcd')}; arguments: `{' '.join(meta.get('argv', []))}`; "
          f"took {end.get('seconds')} s; CPU used by other work on the machine meanwhile: "
          f"{end.get('foreign_load_cores')} cores on average.", "",
          f"pgbench `-c {meta.get('clients')} -j {meta.get('threads')} -T {meta.get('seconds')}`, scale "
          f"{meta.get('scale')}, unix socket: with pg_ha loaded and configured (single-node "
          "cluster, sidecar, etcd) and without it (a copy of the same data directory with the same postgresql.conf "
          "and `shared_preload_libraries=''`), both servers up all along, runs alternating A B A B. "
          "TPS ratio = with / without, per pair; min / median / max.", "",
          "*CPU/tx*: CPU time of the whole server (postmaster and all its processes, the pg_ha worker "
          "included) per transaction, in microseconds; its ratio is without / with, so that 1.0 = no overhead "
          "and lower = pg_ha costs more. It is steadier than TPS when other work competes for the cores. "
          "*Other load*: cores used by other work on the machine during the runs.", "",
          table(["mode", "pairs", "TPS with pg_ha", "TPS without", "TPS ratio", "CPU/tx with (µs)", "CPU/tx without (µs)",
                 "CPU ratio", "other load"], rows), "",
          "Cost of the HA agent on a single node: CPU % of one core (median over the samples) / largest VmRSS, split into private "
          "memory (RssAnon), mapped files (RssFile: binaries and libraries, shared with other processes) and "
          "shared memory (RssShmem: PostgreSQL's shared buffers and pg_ha's segment). "
          "pg_ha: the `pg_ha worker` background worker and `pg_ha_sidecar`; Patroni: the patroni process "
          "(Patroni at ttl 10, loop_wait 1, retry_timeout 3; pg_ha at its defaults, ttl 10, loop 1 s). "
          "etcd requests: gRPC calls handled (the JSON gateway's requests included) per second.", "",
          table(["system", "phase", "samples", "worker / patroni", "for scale: PG's logical replication launcher", "sidecar", "etcd process", "etcd RPCs/s",
                 "by method (RPCs/s)"], cost)]
    return write_markdown(path, md)


if __name__ == "__main__":
    print(write(sys.argv[1]))
