#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds, installs
# pg_ha into PostgreSQL's own directories (scripts/uninstall.sh removes it), runs every suite and
# prints the runners' own summaries (ctest, pg_regress), then each phase's wall time.
#
# Two lanes run side by side after the build, because one mostly computes and the other mostly
# waits (servers starting, leases expiring, fences timing out):
#   compute lane: the simulator (10,000 seeds and the canaries), then one clang build with ASan
#                 and UBSan for the pure code's tests and the fuzz targets (scripts/fuzz.sh,
#                 15 s per target); its output goes to build/test-logs/compute.log and is
#                 shown at the end
#   servers lane: unit, etcd, agent, sidecar, integration and fault tests (ctest), pg_regress
# (The fuzz targets moved to the compute lane once the simulator and the sanitizer tests got
# faster: the servers lane, 14 min on a 2-core CI machine, had become the longer one.)
#   PG_HA_JOBS=N      parallel build jobs (default: nproc)
#   PG_HA_SKIP_SANITIZERS=1  skip the sanitizer build, its tests and the fuzzing (local only)
#   PG_HA_FUZZ_SECONDS=N  seconds per fuzz target (default here 15; scripts/fuzz.sh alone: 60)
#   PG_HA_LONG=1      the long run: also the integration and fault scenarios marked long
#                     (tests/integration/README.md, "Quick set and long run"), ~10 min more
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  # Packages, the install into PostgreSQL's directories and servers run as `postgres` need root.
  command -v sudo >/dev/null || { echo "test.sh: run as root, or as a user who may use sudo" >&2; exit 1; }
  exec sudo --preserve-env=PG_HA_JOBS,PG_HA_SKIP_SANITIZERS,PG_HA_FUZZ_SECONDS,PG_HA_LONG bash "$0" "$@"
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
build() {
  # pg_regress, the sidecar and the integration tests load the module from PostgreSQL's own
  # directories: install there. Line tables only (-g1): a third less build time than full debug
  # information, and the backtraces of a failing test still name files and lines.
  bash scripts/configure.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" &&
    cmake --build build -j "$jobs" &&
    cmake --install build >/dev/null
}
sim_tests() { (cd build && ctest --output-on-failure -L sim --timeout 1800); }
server_tests() { (cd build && ctest --output-on-failure -LE sim -j 2 --timeout 900); }
regress() {
  echo "(pg_regress: the fence and kill -9 checks provoke errors on purpose; lines such as"
  echo " 'FATAL: terminating connection due to unexpected postmaster exit' or a HINT are part of"
  echo " them. Each check ends with 'ok: ...' or 'FAILED: ...'.)"
  bash scripts/run-regress.sh build
}
# The pure code's tests (unit, sim, agent) and the libFuzzer targets, in one clang build with
# ASan + UBSan (-O1, line tables), two at a time: 7 targets x 15 s take 1 min of the lane.
fuzz_seconds=${PG_HA_FUZZ_SECONDS:-15}
sanitizers() { PG_HA_SANITIZER_TESTS=1 PG_HA_FUZZ_SECONDS=$fuzz_seconds PG_HA_JOBS=$jobs bash scripts/fuzz.sh; }

# The compute lane, in a subshell of its own: its phase times come back through a file.
compute_lane() {
  phase_names=() phase_secs=() status=0
  phase "simulation (10,000 seeds, canaries)" sim_tests
  [ "${PG_HA_SKIP_SANITIZERS:-0}" = 1 ] ||
    phase "sanitizers: clang build, unit/sim/agent tests, fuzz ${fuzz_seconds} s per target" sanitizers
  for i in "${!phase_names[@]}"; do echo "${phase_secs[$i]}|${phase_names[$i]}"; done > "$logs/compute.times"
  return $status
}

echo "== dependencies =="
phase "dependencies" deps
echo "== build (RelWithDebInfo) and install into PostgreSQL's directories =="
phase "build + install" build
if [ $status -ne 0 ]; then exit 1; fi

mkdir -p "$logs"
echo "== simulation, sanitizer build, fuzz targets: running alongside, output in $logs/compute.log =="
compute_lane >"$logs/compute.log" 2>&1 &
compute_pid=$!
trap 'kill $compute_pid 2>/dev/null || true' EXIT
echo "== ctest: unit, etcd client, agent, sidecar, integration, faults =="
phase "ctest: unit, etcd, agent, sidecar, integration, faults" server_tests
if [ -x scripts/run-regress.sh ]; then
  echo "== pg_regress =="
  phase "pg_regress" regress
fi
compute_rc=0
wait $compute_pid || compute_rc=$?
trap - EXIT
echo "== simulation, sanitizer build, fuzz targets (from $logs/compute.log) =="
cat "$logs/compute.log"
[ $compute_rc -eq 0 ] || { echo "!! the simulation, sanitizer or fuzz lane failed"; status=1; }
while IFS='|' read -r secs name; do
  phase_names+=("$name (alongside)"); phase_secs+=("$secs")
done < <(cat "$logs/compute.times" 2>/dev/null)

echo "== phase wall times =="
for i in "${!phase_names[@]}"; do
  printf '  %-58s %4d:%02d\n' "${phase_names[$i]}" $(( phase_secs[i] / 60 )) $(( phase_secs[i] % 60 ))
done
total=$(( $(date +%s) - t_start ))
printf '  %-58s %4d:%02d  (%s)\n' "total" $(( total / 60 )) $(( total % 60 )) "$([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
