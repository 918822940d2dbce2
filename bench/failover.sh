#!/usr/bin/env bash
# Failover benchmark, pg_ha and Patroni side by side on this machine (see bench/README.md).
#   bash bench/failover.sh [--runs N] [--quick] [--systems pg_ha,patroni] [--settings defaults,equal,pst0,sync]
#                          [--scenarios postmaster_kill,node_kill,switchover,postmaster_kill_pst0]
# Results: bench/results/failover-<time>.jsonl and .md
source "$(dirname "$0")/setup.sh"
/usr/bin/python3 "$top/bench/py/failover.py" "$@"
