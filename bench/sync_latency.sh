#!/usr/bin/env bash
# Commit latency cost of synchronous replication: pgbench TPC-B-like against the primary of a
# 3-node cluster with synchronous_mode off / on / quorum (pg_ha) and false / true (Patroni),
# switched at run time, alternating (see bench/README.md).
#   bash bench/sync_latency.sh [--pairs N] [--seconds S] [--systems pg_ha,patroni] [--modes off,on,quorum] [--quick]
# Results: bench/results/sync_latency-<time>.jsonl and .md
source "$(dirname "$0")/setup.sh"
/usr/bin/python3 "$top/bench/py/sync_latency.py" "$@"
