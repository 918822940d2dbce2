"""CPU % and RSS of a few processes over an interval, from /proc (no ps parsing)."""
import os
import time

HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """utime + stime of the process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError, TypeError):
        return None


def rss_kib(pid):
    """{VmRSS, RssAnon, RssFile, RssShmem} in KiB. VmRSS of a postgres process also counts the
    shared memory pages and mapped binaries (postgres, pg_ha.so) it touched; RssAnon is its
    private memory."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except (OSError, ValueError, TypeError):
        pass
    return out


class Sampler:
    """start(); poll() now and then (keeps the largest RSS); stop() -> {name: figures}."""

    def __init__(self, pids):
        self.pids = {k: v for k, v in pids.items() if v}
        self.rss = {}

    def start(self):
        self.t0 = time.monotonic()
        self.c0 = {k: cpu_ticks(p) for k, p in self.pids.items()}
        self.poll()

    def poll(self):
        for k, p in self.pids.items():
            now = rss_kib(p)
            if now.get("VmRSS"):
                old = self.rss.get(k, {})
                self.rss[k] = {f: max(old.get(f, 0), v) for f, v in now.items()}

    def stop(self):
        self.poll()
        dt = time.monotonic() - self.t0
        out = {}
        for k, p in self.pids.items():
            c1 = cpu_ticks(p)
            c0 = self.c0.get(k)
            cpu = round(100.0 * (c1 - c0) / HZ / dt, 2) if c1 is not None and c0 is not None else None
            r = self.rss.get(k, {})
            mib = lambda f: round(r[f] / 1024, 1) if f in r else None
            out[k] = {"cpu_pct": cpu, "rss_mib": mib("VmRSS"), "rss_anon_mib": mib("RssAnon"),
                      "rss_file_mib": mib("RssFile"), "rss_shmem_mib": mib("RssShmem"), "pid": p}
        return out
