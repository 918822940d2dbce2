"""Markdown table of a sync_latency JSON-lines file: pgbench latency and TPS per replication mode,
and the ratio of each synchronous mode to asynchronous within the same round."""
import sys

from report import mmm, read_records, table, write_markdown


def write(path):
    recs, meta, end = read_records(path)
    runs = [r for r in recs if r.get("kind") == "pgbench"]
    rows = []
    for system in ("pg_ha", "patroni"):
        rs = [r for r in runs if r["system"] == system]
        if not rs:
            continue
        by = {}
        for r in rs:
            by.setdefault(r["mode"], {})[r["pair"]] = r
        base = by.get("off", {})
        for mode in ("off", "on", "quorum"):
            m = by.get(mode)
            if not m:
                continue
            pairs = sorted(m)
            both = [p for p in pairs if p in base]
            lat_ratio = [m[p]["latency_ms"] / base[p]["latency_ms"] for p in both] if mode != "off" else []
            tps_ratio = [m[p]["tps"] / base[p]["tps"] for p in both] if mode != "off" else []
            rows.append([
                system, rs[0].get("settings", ""), mode, len(pairs),
                mmm([m[p]["latency_ms"] for p in pairs], "{:.2f}"),
                mmm([m[p]["tps"] for p in pairs], "{:.0f}"),
                mmm(lat_ratio, "{:.2f}") if lat_ratio else "-",
                mmm(tps_ratio, "{:.2f}") if tps_ratio else "-",
                sum(1 for p in pairs if not m[p].get("mode_held", True)),
                mmm([m[p].get("foreign_load_cores") for p in pairs], "{:.2f}"),
            ])
    errors = [f"- {r['system']}: {r['error']}" for r in recs if r.get("kind") == "error"]
    md = [f"# Synchronous replication: commit latency with pgbench, {meta.get('started', '')}", "",
          f"Machine: {meta.get('cores')} cores; pg_ha {meta.get('commit')}"
          f"{' + ' + str(meta.get('dirty_sources')) + ' uncommitted source files' if meta.get('dirty_sources') else ''}; "
          f"{meta.get('postgres')}; {meta.get('patroni')}; {meta.get('etcd')}; arguments: "
          f"`{' '.join(meta.get('argv', []))}`; took {end.get('seconds')} s; CPU used by other work on the machine "
          f"meanwhile: {end.get('foreign_load_cores')} cores on average.", "",
          f"3 nodes on loopback; pgbench TPC-B-like `-c {meta.get('clients')} -j {meta.get('threads')} -T "
          f"{meta.get('seconds')}`, scale {meta.get('scale')}, against the primary over its unix socket; the "
          "replication mode switched at run time between runs, rounds alternating the modes (off, on, quorum, "
          "off, on, ...), a CHECKPOINT before each run. *on*: one synchronous standby (pg_ha "
          "`synchronous_mode: on`, Patroni `synchronous_mode: true`); *quorum*: pg_ha's `ANY 1` of both "
          "standbys. Ratios are per round, against that round's asynchronous run (latency: > 1 = slower; "
          "TPS: < 1 = fewer). min / median / max. *Mode lost*: runs at whose end the mode was no longer in "
          "force. *Other load*: cores used by other work on the machine during each run.", "",
          table(["system", "settings", "synchronous mode", "rounds", "latency average ms", "TPS",
                 "latency / async", "TPS / async", "mode lost", "other load"], rows)]
    if errors:
        md += ["", "Errors:", ""] + errors
    return write_markdown(path, md)


if __name__ == "__main__":
    print(write(sys.argv[1]))
