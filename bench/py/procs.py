"""Processes the bench starts: spawn, record, find a node's whole tree, and stop them all.

Every pid the bench starts is written to <tmp>/pids so that the shell wrapper can stop what a
crashed driver left behind; nothing is ever killed by name.
"""
import os
import signal
import socket
import subprocess
import time

_started = []          # (pid, Popen or None)
_pidfile = None


def set_pidfile(path):
    global _pidfile
    _pidfile = path


def start_time(pid):
    """Field 22 of /proc/<pid>/stat: tells a recorded pid from a later process that reused it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _record(pid):
    if _pidfile:
        with open(_pidfile, "a") as f:
            f.write(f"{pid} {start_time(pid)}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(argv, log, user=None, env=None, cwd=None):
    """Starts argv with stdout+stderr to `log`; as `user` (exec'd directly, no runuser parent)."""
    out = open(log, "ab")
    kw = {}
    if user:
        import pwd
        pw = pwd.getpwnam(user)
        kw = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        env = dict(env or os.environ, HOME=pw.pw_dir, USER=user, LOGNAME=user)
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, cwd=cwd, start_new_session=True, **kw)
    out.close()
    _started.append(p)
    _record(p.pid)
    return p


def record_pid(pid):
    """A process the bench did not fork itself but owns (a postmaster started by pg_ctl)."""
    _record(pid)


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    """roots and all their descendants that are alive now."""
    kids = children_map()
    seen, todo = set(), [r for r in roots if r and alive(r)]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(kids.get(p, []))
    return seen


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_together(roots):
    """Freezes every process of the trees, then SIGKILLs them all: they die as one machine."""
    pids = tree(roots)
    t = time.monotonic_ns()
    for p in pids:
        _signal(p, signal.SIGSTOP)
    pids |= tree(list(pids))  # anything forked in between
    for p in pids:
        _signal(p, signal.SIGSTOP)
    for p in pids:
        _signal(p, signal.SIGKILL)
    reap()
    return t


def wait_pidfd(fd, timeout=10.0):
    """Monotonic ns at which the process of a pidfd had exited (None after timeout)."""
    import select
    p = select.poll()
    p.register(fd, select.POLLIN)
    return time.monotonic_ns() if p.poll(timeout * 1000) else None


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def reap():
    for p in _started:
        p.poll()


def postmaster_pid(data_dir):
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as f:
            pid = int(f.readline().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def stop_all(extra_roots=(), grace=5.0):
    """SIGTERM every process the bench started (and extra roots), wait, then SIGKILL the rest."""
    roots = [p.pid for p in _started if p.poll() is None] + [r for r in extra_roots if r]
    pids = tree(roots)
    for p in pids:
        _signal(p, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end and any(alive(p) for p in pids):
        reap()
        time.sleep(0.1)
    for p in tree(list(pids)):
        _signal(p, signal.SIGKILL)
    reap()


def stop(proc, grace=30.0):
    """SIGTERM one started process and wait for it (SIGKILL after `grace`)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cleanup_pidfile(path):
    """Stops every recorded process still alive (same start time) and its descendants."""
    roots = []
    try:
        lines = open(path).read().split("\n")
    except OSError:
        return
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        if start_time(int(parts[0])) == int(parts[1]):
            roots.append(int(parts[0]))
    stop_all(roots, grace=10.0)


if __name__ == "__main__":
    import sys
    cleanup_pidfile(sys.argv[1])
