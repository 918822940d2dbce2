"""Markdown table of a failover JSON-lines file: min / median / max per scenario and system."""
import statistics
import sys

from report import mmm, read_records, table, write_markdown

SCENARIOS = {
    "postmaster_kill": "postmaster kill -9",
    "postmaster_kill_pst0": "postmaster kill -9, primary_start_timeout 0",
    "node_kill": "whole node kill -9",
    "switchover": "switchover to a named replica",
}


def write(path):
    recs, meta, _ = read_records(path)
    runs = [r for r in recs if r.get("kind") == "run"]
    rows = []
    for sc in SCENARIOS:
        groups = {}
        for r in runs:
            if r["scenario"] == sc:
                groups.setdefault((r["system"], r["settings"]), []).append(r)
        for (system, settings), rs in groups.items():
            ok = [r for r in rs if r.get("ok")]
            lost = [r.get("lost") for r in ok if r.get("lost") is not None]
            old = [r.get("old_acks_after") for r in ok if r.get("old_acks_after") is not None]
            old_exit = [r.get("old_acks_after_exit") for r in ok if r.get("old_acks_after_exit") is not None]
            loads = [r.get("foreign_load_cores") for r in rs if r.get("foreign_load_cores") is not None]
            rows.append([
                SCENARIOS[sc], system, f"{settings} ({rs[0].get('meaning', '')})", f"{len(ok)}/{len(rs)}",
                mmm([r.get("outage_s") for r in ok]),
                mmm([r.get("writable_s") for r in ok]),
                f"{mmm(lost, '{:.0f}')} (runs with loss: {sum(1 for x in lost if x)})",
                f"{mmm(old, '{:.0f}')}" + (f" (after exit: {mmm(old_exit, '{:.0f}')})" if old_exit else ""),
                mmm([r.get("command_s") for r in rs]) if sc == "switchover" else "",
                f"{statistics.median(loads):.2f}" if loads else "n/a",
            ])
    idle = [[r["system"], f"{r['settings']} ({r.get('meaning', '')})", r["nodes"], r["etcd_rpcs_per_s"],
             ", ".join(f"{k} {v}" for k, v in sorted(r.get("etcd_by_method", {}).items())), r["boot_s"]]
            for r in recs if r.get("kind") == "idle_etcd"]
    failed = [f"- {r['system']}/{r['settings']} {r.get('scenario', 'boot')} #{r.get('run', '')}: {r.get('error', '')}"
              for r in recs if r.get("kind") in ("run", "boot") and not r.get("ok")]
    md = [f"# Failover benchmark, {meta.get('started', '')}", "",
          f"Machine: {meta.get('cores')} cores; pg_ha {meta.get('commit')}"
          f"{' + ' + str(meta.get('dirty_sources')) + ' uncommitted source files' if meta.get('dirty_sources') else ''}; {meta.get('postgres')}; "
          f"{meta.get('patroni')}; {meta.get('etcd')}; {meta.get('runs')} run(s) per scenario; "
          f"arguments: `{' '.join(meta.get('argv', []))}`", "",
          "Figures in seconds, min / median / max over the runs that recovered. *Write outage*: largest gap "
          "between consecutive acknowledged commits from the last one before the fault on. *To writable*: "
          "fault to the first commit on a connection opened after the fault. *Lost*: acknowledged commits "
          "missing on the new primary after recovery. *Old primary acks*: commits the old primary acknowledged "
          "after the fault (switchover: after the new primary's first); *after exit*: of those, the ones "
          "acknowledged after the kernel reported the postmaster gone (pidfd). *Other load*: CPU cores used by "
          "processes that are not the bench's during the run (median), i.e. other work sharing the machine.", "",
          table(["scenario", "system", "settings", "ok", "write outage s", "to writable s", "lost acked commits",
                 "old primary acks", "command s", "other load"], rows), "",
          "Idle etcd traffic of the 3-node cluster (10 s, right after bootstrap):", "",
          table(["system", "settings", "nodes", "etcd RPCs/s", "by method (RPCs/s)", "boot s"], idle)]
    if failed:
        md += ["", "Runs that failed:", ""] + failed
    return write_markdown(path, md)


if __name__ == "__main__":
    print(write(sys.argv[1]))
