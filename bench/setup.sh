# Sourced by bench/failover.sh, overhead.sh, sync_latency.sh and faults.sh: installs what the benchmarks need, builds
# pg_ha into build-bench/, installs that build into a private PostgreSQL tree for this run, and
# sets a trap that stops every process the bench recorded (also on failure and Ctrl-C).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
if [ "$(id -u)" -ne 0 ]; then echo "run as root (PostgreSQL and Patroni are started as the postgres user)" >&2; exit 1; fi
PG_HA_WITH_BENCH=1 bash scripts/install-deps.sh
if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -f build-bench/extension/pg_ha.so ]; then
  echo "bench: building pg_ha into build-bench/"
  bash scripts/configure.sh build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build-bench -j "$(nproc)" --target pg_ha pg_ha_sidecar pg_hactl >/dev/null   # everything `cmake --install` installs
fi
for a in "$@"; do if [ "$a" = --keep ]; then BENCH_KEEP=1; fi; done
BENCH_TMP=$(mktemp -d /tmp/pg_ha_bench.XXXXXX)
chmod 755 "$BENCH_TMP"
export BENCH_TMP
bench_cleanup() {
  /usr/bin/python3 "$top/bench/py/procs.py" "$BENCH_TMP/pids" || true
  # bench/faults: its nftables table, the processes of the OS users it made, the users (partition.py)
  if [ -f "$BENCH_TMP/nft_table" ] || [ -f "$BENCH_TMP/os_users" ]; then
    /usr/bin/python3 "$top/bench/py/partition.py" cleanup "$BENCH_TMP" || true
  fi
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
# The private tree: `cmake --install build-bench` into it (DESTDIR), the rest of PostgreSQL 15
# hard-linked from the system. PostgreSQL finds its lib and share directories relative to its
# binary, so the bench runs exactly the pg_ha it built, even while other work on the machine
# installs another build into the system directories.
BENCH_PG_ROOT="$BENCH_TMP/pgroot"
DESTDIR="$BENCH_PG_ROOT" cmake --install build-bench >/dev/null
for d in /usr/lib/postgresql/15 /usr/share/postgresql/15; do
  mkdir -p "$BENCH_PG_ROOT$d"
  cp -a --link --no-clobber "$d/." "$BENCH_PG_ROOT$d/" 2>/dev/null || cp -a --no-clobber "$d/." "$BENCH_PG_ROOT$d/"
done
export BENCH_PG_BIN="$BENCH_PG_ROOT/usr/lib/postgresql/15/bin"
if [ "$("$BENCH_PG_BIN/pg_config" --pkglibdir)" != "$BENCH_PG_ROOT/usr/lib/postgresql/15/lib" ]; then
  echo "bench: the private PostgreSQL tree does not relocate" >&2; exit 1
fi
