"""min / median / max, markdown and run-session helpers shared by the benchmarks."""
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
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


def read_records(path):
    """The records of a results .jsonl file, with its meta and end records ({} when missing)."""
    recs = [json.loads(line) for line in open(path) if line.strip()]
    meta = next((r for r in recs if r.get("kind") == "meta"), {})
    end = next((r for r in recs if r.get("kind") == "end"), {})
    return recs, meta, end


def write_markdown(jsonl_path, lines):
    """Writes the report next to its JSON lines (same name, .md) and returns its text."""
    text = "\n".join(lines) + "\n"
    with open(os.path.splitext(jsonl_path)[0] + ".md", "w") as f:
        f.write(text)
    return text


RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")


@contextlib.contextmanager
def session(name, args, **meta):
    """One bench command: its results/<name>-<time>.jsonl (yielded with the private temp dir), the
    meta record first and the end record last, a pidfile so every process it started is stopped
    at the end (procs.stop_all), also on SIGTERM or an error. The temp dir goes unless --keep or
    BENCH_TMP (set by the wrapper script, which removes it itself)."""
    import procs
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + (f"-{args.tag}" if args.tag else "")
    out = JsonLines(os.path.join(RESULTS, f"{name}-{stamp}.jsonl"))
    tmp = os.environ.get("BENCH_TMP") or tempfile.mkdtemp(prefix="pg_ha_bench.")
    os.chmod(tmp, 0o755)   # the postgres user runs servers below it
    procs.set_pidfile(os.path.join(tmp, "pids"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out.add(dict(machine(), kind="meta", argv=sys.argv[1:], **meta))
    fc = ForeignCpu()
    fc.start()
    t0 = time.monotonic()
    try:
        yield out, tmp
    finally:
        procs.stop_all()
        out.add({"kind": "end", "seconds": round(time.monotonic() - t0), "foreign_load_cores": fc.stop()})
        if not args.keep and not os.environ.get("BENCH_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)


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
