#!/usr/bin/env bash
# Partition benchmark, pg_ha and Patroni side by side on this machine (see bench/README.md).
#   bash bench/faults.sh [--runs N] [--quick] [--systems pg_ha,patroni] [--settings defaults,equal]
#                        [--scenarios isolation,etcd_cut] [--plans pg_ha/defaults,patroni/equal]
# Results: bench/results/faults-<time>.jsonl and .md. Needs nft (nftables): one table of its own,
# inet pg_ha_bench_<pid>, and OS users pg_ha_bench_<pid>_n1..3, all removed at the end (setup.sh's trap).
source "$(dirname "$0")/setup.sh"
command -v nft >/dev/null || { echo "bench/faults: nft (nftables) is needed" >&2; exit 1; }
/usr/bin/python3 "$top/bench/py/faults.py" "$@"
