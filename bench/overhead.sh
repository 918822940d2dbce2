#!/usr/bin/env bash
# Overhead benchmark: pgbench with and without pg_ha (A B A B ...), and the HA agent's idle and
# busy cost next to Patroni's (see bench/README.md).
#   bash bench/overhead.sh [--pairs N] [--seconds S] [--clients C] [--threads J] [--quick]
# Results: bench/results/overhead-<time>.jsonl and .md
source "$(dirname "$0")/setup.sh"
/usr/bin/python3 "$top/bench/py/overhead.py" "$@"
