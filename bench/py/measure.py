"""Turns one run's acknowledged commits into the figures: write outage, time to a new writable
primary, acknowledged commits lost, commits acknowledged by the old primary after the fault."""


def read_acks(path):
    acks = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 5:
                acks.append(tuple(int(x) for x in p))  # id, ack_ns, port, serial, conn_ns
    acks.sort(key=lambda a: a[1])
    return acks


def figures(acks, t_fault, old_port, switchover, present_ids, t_dead=None):
    """acks: (id, ack_ns, port, serial, conn_ns); t_fault: ns; present_ids: ids read back on the
    new primary after recovery (None if it could not be read)."""
    before = [a for a in acks if a[1] <= t_fault]
    after = [a for a in acks if a[1] > t_fault]
    # A primary that accepts writes after the fault: first commit on a connection opened after it.
    fresh = [a for a in after if a[4] > t_fault]
    first_new = fresh[0] if fresh else None
    f = {
        "acks_total": len(acks),
        "acks_before_fault": len(before),
        "writable_s": round((first_new[1] - t_fault) / 1e9, 3) if first_new else None,
        "new_primary_port": first_new[2] if first_new else None,
    }
    # Write outage: the largest gap between consecutive acknowledged commits from the last one
    # before the fault to the end of the observation.
    window = ([before[-1]] if before else []) + after
    if first_new and window:
        gaps = [(b[1] - a[1]) for a, b in zip(window, window[1:])]
        f["outage_s"] = round(max(gaps) / 1e9, 3) if gaps else None
    else:
        f["outage_s"] = None
    # Commits the old primary acknowledged after the fault.
    if switchover:
        # ... after the new primary acknowledged its first: two writers at once.
        t_new = next((a[1] for a in after if a[2] != old_port), None)
        old = [a for a in after if a[2] == old_port and t_new is not None and a[1] > t_new]
    else:
        restarted_in_place = first_new is not None and first_new[2] == old_port
        old = [a for a in after if a[2] == old_port and (a[4] <= t_fault or not restarted_in_place)]
    f["old_acks_after"] = len(old)
    if t_dead is not None:
        f["kill_took_ms"] = round((t_dead - t_fault) / 1e6, 2)
        f["old_acks_after_exit"] = sum(1 for a in old if a[1] > t_dead)
    # How long after the fault they came: a commit in flight at the kill can be acknowledged
    # microseconds after it without being a late writer.
    f["old_acks_after_ms"] = [round((a[1] - t_fault) / 1e6, 2) for a in old[:20]]
    if present_ids is None:
        f["lost"] = None
    else:
        f["lost"] = sum(1 for a in acks if a[0] not in present_ids)
    return f


ERROR_CLASSES = [
    ("closed", ("server closed the connection", "terminating connection", "connection already closed")),
    ("refused", ("Connection refused",)),
    ("starting_up", ("starting up",)),
    ("not_accepting", ("not yet accepting connections",)),
    ("recovery", ("recovery", "shutting down")),
    ("fenced", ("fenced",)),
    ("read_only", ("read-only", "read only")),
]


def error_phases(path, t_fault):
    """What the writer was told after the fault, by kind: {kind: [first ms, last ms, count]}."""
    out = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return out
    for line in lines:
        ns, _, rest = line.partition(" ")
        try:
            t = (int(ns) - t_fault) / 1e6
        except ValueError:
            continue
        if t < 0:
            continue
        msg = rest.partition(" ")[2]
        kind = next((k for k, keys in ERROR_CLASSES if any(x in msg for x in keys)), "other")
        e = out.setdefault(kind, [round(t, 1), round(t, 1), 0])
        e[1] = round(t, 1)
        e[2] += 1
    return out


def partition_figures(acks, t_cut, t_heal, old_port, present_ids):
    """One partition run (bench/faults): acks as in figures(); t_cut, t_heal: ns; present_ids: ids
    on the final primary after the heal and the rejoin (None if it could not be read).

    The new primary is the first other port that acknowledges after the cut (the writer only gets
    commits from a writable server). The old primary's acks after the cut count until the heal,
    and after it on connections opened before it (a later ack on a fresh connection would be a
    legitimate return as primary, not a late writer)."""
    before = [a for a in acks if a[1] <= t_cut]
    after = [a for a in acks if a[1] > t_cut]
    new_first = next((a for a in after if a[2] != old_port), None)
    old = [a for a in after if a[2] == old_port and (a[1] <= t_heal or a[4] <= t_heal)]
    s = lambda ns: round(ns / 1e9, 3)
    f = {
        "acks_total": len(acks),
        "acks_before_cut": len(before),
        "new_primary_port": new_first[2] if new_first else None,
        # cut -> first commit acknowledged by the new primary
        "writable_s": s(new_first[1] - t_cut) if new_first else None,
        # last ack before the cut -> first ack by the new primary
        "outage_s": s(new_first[1] - before[-1][1]) if new_first and before else None,
        "old_acks_after_cut": len(old),
        # how long after the cut the old primary still acknowledged commits
        "old_last_ack_s": s(old[-1][1] - t_cut) if old else None,
        # two writers: commits the old primary acknowledged after the new primary's first
        "old_acks_after_new": sum(1 for a in old if new_first and a[1] > new_first[1]),
    }
    if new_first:
        prev = [a for a in acks if a[1] < new_first[1]]
        # what the client saw: the last ack of anyone -> the new primary's first
        f["client_gap_s"] = s(new_first[1] - prev[-1][1]) if prev else None
    if present_ids is None:
        f["lost"] = f["lost_old_after_cut"] = None
    else:
        missing = {a[0] for a in acks if a[0] not in present_ids}
        f["lost"] = len(missing)
        f["lost_old_after_cut"] = sum(1 for a in old if a[0] in missing)
    return f
