# Sourced by bench/failover.sh and bench/overhead.sh: installs what the benchmarks need, builds
# pg_ha into build-bench/ and installs it; creates the run's temp dir with a trap that stops
# every process the bench recorded (also on failure and Ctrl-C).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
if [ "$(id -u)" -ne 0 ]; then echo "run as root (PostgreSQL and Patroni are started as the postgres user)" >&2; exit 1; fi
PG_HA_WITH_BENCH=1 bash scripts/install-deps.sh
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "bench: building pg_ha into build-bench/ and installing it"
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-bench -j "$(nproc)" --target pg_ha pg_ha_sidecar >/dev/null
  cmake --install build-bench >/dev/null
fi
for a in "$@"; do if [ "$a" = --keep ]; then BENCH_KEEP=1; fi; done
BENCH_TMP=$(mktemp -d /tmp/pg_ha_bench.XXXXXX)
chmod 755 "$BENCH_TMP"
export BENCH_TMP
bench_cleanup() {
  /usr/bin/python3 "$top/bench/py/procs.py" "$BENCH_TMP/pids" || true
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
