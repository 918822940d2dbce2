"""Markdown table of a faults JSON-lines file: min / median / max per scenario and system."""
import statistics
import sys

from report import mmm, read_records, table, write_markdown

SCENARIOS = {
    "isolation": "primary isolated (from etcd and both replicas)",
    "etcd_cut": "primary cut from etcd only",
}


def row(sc, system, settings, rs):
    ok = [r for r in rs if r.get("ok")]
    val = lambda k: [r.get(k) for r in ok if r.get(k) is not None]
    lost = val("lost")
    loads = [r.get("foreign_load_cores") for r in rs if r.get("foreign_load_cores") is not None]
    load1 = [r.get("load1") for r in rs if r.get("load1") is not None]
    return [
        SCENARIOS[sc], system, f"{settings} ({rs[0].get('meaning', '')})", f"{len(ok)}/{len(rs)}",
        mmm(val("outage_s")),
        mmm(val("old_last_ack_s")) + f" ({sum(1 for r in ok if r.get('old_last_ack_s') is None)} runs none)",
        mmm(val("old_acks_after_new"), "{:.0f}"),
        f"{mmm(lost, '{:.0f}')} (runs with loss: {sum(1 for x in lost if x)})",
        f"{sum(1 for r in ok if r.get('rejoined'))}/{len(ok)}, {mmm(val('rejoin_s'))} s",
        (f"{statistics.median(loads):.2f}" if loads else "n/a") + (f" (load1 {mmm(load1, '{:.1f}')})" if load1 else ""),
    ]


def write(path):
    recs, meta, end = read_records(path)
    runs = [r for r in recs if r.get("kind") == "run"]
    rows = []
    for sc in SCENARIOS:
        groups = {}
        for r in runs:
            if r["scenario"] == sc:
                groups.setdefault((r["system"], r["settings"]), []).append(r)
        rows += [row(sc, system, settings, rs) for (system, settings), rs in groups.items()]
    failed = [f"- {r['system']}/{r['settings']} {r.get('scenario', 'boot')} #{r.get('run', '')}: {r.get('error', '')}"
              for r in recs if r.get("kind") in ("run", "boot") and not r.get("ok")]
    md = [f"# Partition benchmark, {meta.get('started', '')}", "",
          f"Machine: {meta.get('cores')} cores; pg_ha {meta.get('commit')}"
          f"{' + ' + str(meta.get('dirty_sources')) + ' uncommitted source files' if meta.get('dirty_sources') else ''}; "
          f"{meta.get('postgres')}; {meta.get('patroni')}; {meta.get('etcd')}; {meta.get('runs')} run(s) per scenario; "
          f"{end.get('seconds', '?')} s; arguments: `{' '.join(meta.get('argv', []))}`", "",
          "Figures in seconds, min / median / max over the runs in which another node took over. *Outage*: "
          "last commit acknowledged before the cut -> first commit acknowledged by the new primary. *Old primary "
          "acked until*: the old primary's last acknowledged commit, seconds after the cut (the writer still "
          "reaches it on loopback; *none*: it acknowledged nothing after the cut). *Old acks after new's first*: "
          "commits the old primary acknowledged after the new primary acknowledged its first (two writers). "
          "*Lost*: acknowledged commits missing on the final primary after the heal. *Rejoined*: runs in which "
          "every node streamed from the primary again within 120 s of the heal, and heal -> that. The cut "
          "lasts until 5 s after the new primary's first commit. *Other load*: CPU cores used by processes that "
          "are not the bench's during the run (median), and the 1-minute load average at the start of each run.", "",
          table(["scenario", "system", "settings", "ok", "outage s", "old primary acked until s",
                 "old acks after new's first", "lost acked commits", "rejoined", "other load"], rows)]
    if failed:
        md += ["", "Runs that failed:", ""] + failed
    return write_markdown(path, md)


if __name__ == "__main__":
    print(write(sys.argv[1]))
