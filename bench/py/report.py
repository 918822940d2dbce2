"""min / median / max and markdown helpers shared by both benchmarks."""
import json
import os
import statistics
import subprocess
import time


def mmm(values, fmt="{:.2f}"):
    vs = [v for v in values if v is not None]
    if not vs:
        return "n/a"
    return " / ".join(fmt.format(x) for x in (min(vs), statistics.median(vs), max(vs)))


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {
        "cores": os.cpu_count(),
        "commit": sh(["git", "-C", top, "rev-parse", "--short", "HEAD"]),
        # uncommitted changes in the built sources at the time of the run (a shared checkout)
        "dirty_sources": len(sh(["git", "-C", top, "status", "--porcelain", "--", "extension", "sidecar",
                                 "sql", "CMakeLists.txt"]).splitlines()),
        "postgres": sh(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "patroni": sh(["/usr/bin/patroni", "--version"]),
        "etcd": sh(["etcd", "--version"]).splitlines()[0] if sh(["etcd", "--version"]) else "",
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "pg_ha_so_md5": sh(["md5sum", os.path.join(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"),
                                                   "..", "lib", "pg_ha.so")]).split(" ")[0],
    }


class JsonLines:
    def __init__(self, path):
        self.path = path
        self.records = []

    def add(self, rec):
        self.records.append(rec)
        with open(self.path, "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def other_load():
    """Load average (1 min) now: the bench itself adds about 1 on this machine."""
    return round(os.getloadavg()[0], 2)


def _proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    except (OSError, IndexError, ValueError):
        return 0


class ForeignCpu:
    """CPU used on this machine by processes that are not the bench's (other work sharing it),
    in cores, between start() and stop(): all busy time minus the bench's process tree."""

    def __init__(self):
        self.t0 = None

    def _sample(self):
        import procs
        with open("/proc/stat") as f:
            parts = f.readline().split()[1:]
        busy = sum(int(x) for x in parts[:3]) + sum(int(x) for x in parts[5:8])  # user nice system irq softirq steal
        ours = sum(_proc_cpu(p) for p in procs.tree([os.getpid()]))
        return time.monotonic(), busy, ours

    def start(self):
        self.t0 = self._sample()

    def stop(self):
        t1 = self._sample()
        dt = t1[0] - self.t0[0]
        hz = os.sysconf("SC_CLK_TCK")
        return round(max(0.0, ((t1[1] - self.t0[1]) - (t1[2] - self.t0[2])) / hz / dt), 2) if dt > 0 else None
