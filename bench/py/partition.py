"""Partitions between the nodes of one machine, for bench/faults: each node runs as its own OS
user, and an nftables table of the bench's own drops loopback TCP by the sending socket's owner.

- OsUsers: system users `pg_ha_bench_<pid>_n1`.. (no home, no login shell), new for each run so
  that two runs never share one (a cleanup kills every process of its users). They are listed in
  <tmp>/os_users before they are made and removed at the end (remove(); bench/setup.sh's trap
  does it too, after killing what still runs as them, if the driver died).
- Firewall: table `inet pg_ha_bench_<pid>`, one output chain that only matches `oifname "lo"`.
  cut([(uid, port)]) drops new connections of that user's sockets to the port (`meta skuid`), then
  the connections already established, by their exact ports in both directions: packets the
  server sends back carry the server's owner, and packets the kernel re-sends for a socket its
  program already closed carry none (a keep-alive could renew a lease after the "cut").
  The table's name goes to <tmp>/nft_table so that the shell trap deletes it in every exit path;
  delete() here does it first. Nothing else in the ruleset is read or changed.
"""
import os
import pwd
import signal
import subprocess
import sys
import time

USER_PREFIX = "pg_ha_bench_"
TABLE_PREFIX = "pg_ha_bench_"


def _run(argv, stdin=None):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {r.stderr.strip()}")
    return r.stdout


class OsUsers:
    def __init__(self, tmp, count=3):
        self.names = [f"{USER_PREFIX}{os.getpid()}_n{i + 1}" for i in range(count)]
        self.listfile = os.path.join(tmp, "os_users")

    def ensure(self):
        for name in self.names:
            with open(self.listfile, "a") as f:   # before useradd: the trap removes what may exist
                f.write(name + "\n")
            _run(["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                  "--comment", "pg_ha bench (bench/faults.sh)", name])
        return self.names

    def uid(self, name):
        return pwd.getpwnam(name).pw_uid

    def remove(self):
        """After every process of these users has stopped."""
        for name in self.names:
            try:
                pwd.getpwnam(name)
            except KeyError:
                continue
            subprocess.run(["userdel", name], capture_output=True, timeout=30)


def local_ports_to(uid, port):
    """Local ports of the established TCP connections owned by uid whose remote port is `port`."""
    out = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            # sl local_address rem_address st queues timer retrnsmt uid ...
            if len(f) < 8 or f[3] == "0A" or int(f[7]) != uid:   # 0A: LISTEN
                continue
            if int(f[2].rsplit(":", 1)[1], 16) == port:
                out.append(int(f[1].rsplit(":", 1)[1], 16))
    return out


class Firewall:
    def __init__(self, tmp):
        self.table = f"{TABLE_PREFIX}{os.getpid()}"
        with open(os.path.join(tmp, "nft_table"), "w") as f:
            f.write(self.table + "\n")
        subprocess.run(["nft", "delete", "table", "inet", self.table], capture_output=True)
        self._apply([])

    def _apply(self, rules):
        script = (f"add table inet {self.table}\n"
                  f"add chain inet {self.table} out {{ type filter hook output priority 0; policy accept; }}\n")
        script += "".join(f'add rule inet {self.table} out oifname "lo" {r}\n' for r in rules)
        _run(["nft", "-f", "-"], stdin=script)

    def cut(self, links):
        """links: [(uid, port)]: sockets of uid no longer reach TCP `port` on loopback, new and
        established connections. All links in two nft transactions (new connections first, so
        that none appears between the scan and its rules): a cut is one moment, not a sequence.
        Returns the number of established connections cut per link."""
        self._apply([f"meta skuid {uid} tcp dport {port} drop" for uid, port in links])
        est, counts = [], []
        for uid, port in links:
            locals_ = local_ports_to(uid, port)
            counts.append(len(locals_))
            for local in locals_:
                est += [f"tcp sport {local} tcp dport {port} drop", f"tcp sport {port} tcp dport {local} drop"]
        if est:
            self._apply(est)
        return counts

    def heal(self):
        _run(["nft", "flush", "chain", "inet", self.table, "out"])

    def rules(self):
        return _run(["nft", "list", "table", "inet", self.table])

    def delete(self):
        subprocess.run(["nft", "delete", "table", "inet", self.table], capture_output=True)


def user_pids(uids):
    """Processes owned (real uid) by one of uids, from /proc/<pid>/status."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) in uids:
                            out.append(int(d))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return out


def cleanup(tmp):
    """The shell trap's last step (bench/setup.sh): this run's nft table, then every process of the
    OS users this run listed (only the bench ever runs as them: e.g. a postmaster Patroni detached,
    which the pid file does not reach), then the users themselves."""
    try:
        table = open(os.path.join(tmp, "nft_table")).read().strip()
    except OSError:
        table = ""
    if table.startswith(TABLE_PREFIX):
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True)
    try:
        names = sorted(set(open(os.path.join(tmp, "os_users")).read().split()))
    except OSError:
        return
    uids = set()
    for name in names:
        try:
            if name.startswith(USER_PREFIX):
                uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in user_pids(uids):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + 10
        while user_pids(uids) and time.monotonic() < end:
            time.sleep(0.2)
    for name in names:
        if name.startswith(USER_PREFIX):
            subprocess.run(["userdel", name], capture_output=True, timeout=30)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "cleanup":
        cleanup(sys.argv[2])
