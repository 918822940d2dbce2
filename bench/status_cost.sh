#!/usr/bin/env bash
# What a status query costs (docs/sql-api.md, "Cost"): each pg_ha status function called in a
# PL/pgSQL loop on the primary and a replica of a 3-node cluster, and through pgbench.
#   bash bench/status_cost.sh [--calls N] [--rounds R] [--seconds S]
# Results: bench/results/status_cost-<time>.jsonl (and the log lines it prints).
source "$(dirname "$0")/setup.sh"
/usr/bin/python3 "$top/bench/py/status_cost.py" "$@"
