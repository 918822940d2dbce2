#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds, installs
# pg_ha into PostgreSQL's own directories (scripts/uninstall.sh removes it), runs every suite and
# prints the runners' own summaries (ctest, pg_regress), then each phase's wall time.
#
# The build comes in two parts, and two lanes run side by side, because one mostly computes and
# the other mostly waits (servers starting, leases expiring, fences timing out):
#   1. the build of what the servers' tests need (pg_ha.so, the sidecar, pg_hactl and those
#      suites; CMake target pg_ha_server_suites), installed;
#   2. servers lane: the sidecar, integration and fault tests (ctest), then pg_regress;
#      compute lane, at nice 10 beside it: the rest of the build, then the unit, etcd client and
#      agent tests and the simulator (10,000 seeds, the canaries); its output goes to
#      build/test-logs/compute.log and is shown at the end.
# The tests' data lives on a tmpfs of its own (below).
#   PG_HA_JOBS=N      parallel build jobs (default: nproc)
#   PG_HA_LONG=1      the long run: also the integration and fault scenarios marked long
#                     (tests/integration/README.md, "Quick set and long run") and, in the compute
#                     lane, one clang build with ASan + UBSan for the pure code's tests and the
#                     fuzz targets (scripts/fuzz.sh); about 15 min more on 2 cores
#   PG_HA_FUZZ_SECONDS=N  seconds per fuzz target in the long run (default 15; fuzz.sh alone: 60)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  # Packages, the install into PostgreSQL's directories and servers run as `postgres` need root.
  command -v sudo >/dev/null || { echo "test.sh: run as root, or as a user who may use sudo" >&2; exit 1; }
  exec sudo --preserve-env=PG_HA_JOBS,PG_HA_FUZZ_SECONDS,PG_HA_LONG bash "$0" "$@"
fi
jobs=${PG_HA_JOBS:-$(nproc)}
logs=build/test-logs
t_start=$(date +%s)
phase_names=() phase_secs=()
status=0

# phase NAME COMMAND...: runs it, records its wall time; a failure marks the run failed. (set -e
# does not apply inside a command run this way: the phases chain their steps with &&.)
phase() {
  local name=$1 t0 rc=0; shift
  t0=$(date +%s)
  "$@" || rc=$?
  phase_names+=("$name"); phase_secs+=($(( $(date +%s) - t0 )))
  [ $rc -eq 0 ] || { echo "!! phase '$name' failed (exit $rc)"; status=1; }
  return 0
}

deps() { bash scripts/install-deps.sh; }
build_for_servers() {
  # pg_regress, the sidecar and the integration tests load the module from PostgreSQL's own
  # directories: install there. Line tables only (-g1): a third less build time than full debug
  # information, and the backtraces of a failing test still name files and lines.
  bash scripts/configure.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" &&
    cmake --build build -j "$jobs" --target pg_ha_server_suites &&
    cmake --install build >/dev/null
}
build_rest() { cmake --build build -j "$jobs"; }
pure_tests() { (cd build && ctest --output-on-failure -L 'unit|etcd|agent|sim' -j 2 --timeout 1800); }
server_tests() { (cd build && ctest --output-on-failure -L 'integration|faults|sidecar' -j 2 --timeout 900); }
regress() {
  echo "(pg_regress: the fence and kill -9 checks provoke errors on purpose; lines such as"
  echo " 'FATAL: terminating connection due to unexpected postmaster exit' or a HINT are part of"
  echo " them. Each check ends with 'ok: ...' or 'FAILED: ...'.)"
  bash scripts/run-regress.sh build
}
# The long run's sanitizer phase: the pure code's tests (unit, sim, agent) and the libFuzzer
# targets, in one clang build with ASan + UBSan (-O1, line tables); 7 targets x 15 s, two at a time.
fuzz_seconds=${PG_HA_FUZZ_SECONDS:-15}
sanitizers() { PG_HA_SANITIZER_TESTS=1 PG_HA_FUZZ_SECONDS=$fuzz_seconds PG_HA_JOBS=$jobs bash scripts/fuzz.sh; }

# The compute lane, in a subshell of its own: its phase times come back through a file.
compute_lane() {
  # Below the servers lane: its tests wait on timeouts that a starved server could miss.
  renice -n 10 -p $BASHPID >/dev/null
  phase_names=() phase_secs=() status=0
  phase "build: the rest (unit tests, etcd client tests, simulator)" build_rest
  [ $status -ne 0 ] || phase "unit, etcd client, agent tests; simulation (10,000 seeds, canaries)" pure_tests
  [ "${PG_HA_LONG:-0}" != 1 ] ||
    phase "sanitizers: clang build, unit/sim/agent tests, fuzz ${fuzz_seconds} s per target" sanitizers
  for i in "${!phase_names[@]}"; do echo "${phase_secs[$i]}|${phase_names[$i]}"; done > "$logs/compute.times"
  return $status
}

echo "== dependencies =="
phase "dependencies" deps
echo "== build (RelWithDebInfo) of what the servers' tests need; install into PostgreSQL's directories =="
phase "build for the servers' tests + install" build_for_servers
if [ $status -ne 0 ]; then exit 1; fi

# The tests' data (servers, etcd members, sidecars) goes on a tmpfs of its own. On a disk, the
# servers' fsyncs and the removal of each test's data directories took most of the servers lane
# (one 3-node cluster test: 17.8 s on this machine's ext4, 5.6 s on tmpfs). Nothing here tests
# what survives an OS crash: the faults kill processes, and the page cache keeps their writes on
# a disk as in RAM. TMPDIR is where the harness and pg_regress make their folders. Removed at exit
# (a failed test's folder with it: the failure message says how to keep one). The quick run used
# 0.7 GB at its peak; 4 GB is a cap, not a reservation.
test_tmpfs=$(mktemp -d /tmp/pg_ha_t.XXXXXX)
if mount -t tmpfs -o size=4g,mode=1777 pg_ha_tests "$test_tmpfs"; then
  export TMPDIR=$test_tmpfs
else
  echo "test.sh: could not mount a tmpfs for the tests' data; it stays in /tmp (slower)"
fi
cleanup() {
  [ -z "${compute_pid:-}" ] || kill "$compute_pid" 2>/dev/null || true
  if mountpoint -q "$test_tmpfs"; then umount "$test_tmpfs" 2>/dev/null || umount -l "$test_tmpfs"; fi
  rmdir "$test_tmpfs" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$logs"
echo "== the rest of the build, unit and etcd client tests, simulation: running alongside at nice 10, output in $logs/compute.log =="
compute_lane >"$logs/compute.log" 2>&1 &
compute_pid=$!
echo "== ctest: sidecar, integration, faults =="
phase "ctest: sidecar, integration, faults" server_tests
if [ -x scripts/run-regress.sh ]; then
  echo "== pg_regress =="
  phase "pg_regress" regress
fi
compute_rc=0
wait $compute_pid || compute_rc=$?
compute_pid=
echo "== the rest of the build, unit and etcd client tests, simulation (from $logs/compute.log) =="
cat "$logs/compute.log"
[ $compute_rc -eq 0 ] || { echo "!! the compute lane (build, unit tests, simulation, sanitizers) failed"; status=1; }
while IFS='|' read -r secs name; do
  phase_names+=("$name (alongside)"); phase_secs+=("$secs")
done < <(cat "$logs/compute.times" 2>/dev/null)

echo "== phase wall times =="
for i in "${!phase_names[@]}"; do
  printf '  %-58s %4d:%02d\n' "${phase_names[$i]}" $(( phase_secs[i] / 60 )) $(( phase_secs[i] % 60 ))
done
total=$(( $(date +%s) - t_start ))
printf '  %-58s %4d:%02d  (%s)\n' "total" $(( total / 60 )) $(( total % 60 )) "$([ $status -eq 0 ] && echo passed || echo FAILED)"
[ $status -eq 0 ] || [ "${TMPDIR:-}" != "$test_tmpfs" ] || echo "The tests' folders were on a tmpfs and are gone. To keep a failing test's folder and logs, run it
alone with them on disk, e.g. (cd build && TMPDIR=/var/tmp PG_HA_KEEP_TEST_DIRS=1 ctest -R 'NAME' --output-on-failure)."
exit $status
