#!/usr/bin/python3
"""Checks Prometheus text exposition format (0.0.4) read from stdin, or from the files given.

Syntax is checked by the real parser of python3-prometheus-client. That parser is lenient: it
merges a repeated "# HELP x" into the family it is building, so it is followed by the rules of the
format it does not enforce: at most one HELP and one TYPE line per metric name, TYPE before the
family's first sample, a family's samples all together, no series twice.

--self-test runs the checker on a good and on a known-bad text (the repeated-HELP shape /metrics
had) and fails unless it accepts the first and rejects the second.
Exit 0: valid; 1: invalid (each problem on stderr); 2: the parser is not installed.
"""
import re
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("check_metrics: python3-prometheus-client is not installed (apt-get install python3-prometheus-client)",
          file=sys.stderr)
    sys.exit(2)

TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def family_of(sample_name, declared):
    if sample_name in declared:
        return sample_name
    for suffix in SUFFIXES:
        if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in declared:
            return sample_name[: -len(suffix)]
    return sample_name


def problems(text):
    out = []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others on bad syntax
        return ["parser: %s" % e]
    names = [f.name for f in families]
    for n in sorted({n for n in names if names.count(n) > 1}):
        out.append("metric %s is split into %d families" % (n, names.count(n)))
    helps, types, finished, series = {}, {}, set(), set()
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = re.match(r"#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$", line)
        if m:
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            seen = helps if kind == "HELP" else types
            if name in seen:
                out.append("line %d: second # %s for %s (first on line %d)" % (number, kind, name, seen[name]))
            seen[name] = number
            if kind == "TYPE" and rest.strip() not in TYPES:
                out.append("line %d: unknown type %r for %s" % (number, rest.strip(), name))
            if name != current and name in finished:
                out.append("line %d: %s declared again after other metrics" % (number, name))
            if current is not None and name != current:
                finished.add(current)
            current = name
            continue
        if line.startswith("#"):
            continue
        sample = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s", line)
        if not sample:
            continue  # the parser has judged the syntax already
        family = family_of(sample.group(1), set(types) | set(helps))
        if family in finished:
            out.append("line %d: sample of %s after other metrics (a family's samples must be together)" % (number, family))
        if family != current and current is not None:
            finished.add(current)
        if family in helps or family in types:
            if family not in types or types[family] > number:
                out.append("line %d: sample of %s before its # TYPE" % (number, family))
        current = family
        key = (sample.group(1), sample.group(2) or "")
        if key in series:
            out.append("line %d: series %s%s appears twice" % (number, key[0], key[1]))
        series.add(key)
    return out


GOOD = """# HELP pg_ha_role 1 for this node's current role
# TYPE pg_ha_role gauge
pg_ha_role{node="n1",role="primary"} 1
pg_ha_role{node="n1",role="replica"} 0
# HELP pg_ha_failovers_total failovers
# TYPE pg_ha_failovers_total counter
pg_ha_failovers_total{node="n1"} 3
"""
BAD = """# HELP pg_ha_role 1 for this node's current role
# TYPE pg_ha_role gauge
pg_ha_role{node="n1",role="primary"} 1
# HELP pg_ha_role 1 for this node's current role
# TYPE pg_ha_role gauge
pg_ha_role{node="n1",role="replica"} 0
"""


def main(argv):
    if argv[1:] == ["--self-test"]:
        good, bad = problems(GOOD), problems(BAD)
        if good or not bad:
            print("check_metrics self-test failed: good text gave %r, bad text gave %r" % (good, bad), file=sys.stderr)
            return 1
        print("check_metrics self-test: ok (bad text rejected: %s)" % bad[0])
        return 0
    texts = [open(p).read() for p in argv[1:]] or [sys.stdin.read()]
    found = [p for t in texts for p in problems(t)]
    for p in found:
        print("check_metrics: " + p, file=sys.stderr)
    if not found:
        print("check_metrics: valid (%d families)" % sum(len(list(text_string_to_metric_families(t))) for t in texts))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
