#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds, installs
# pg_ha into PostgreSQL's own directories (scripts/uninstall.sh removes it), runs every suite and
# prints the runners' own summaries (ctest, pg_regress), then each phase's wall time.
#
# Two lanes run side by side after the build, because one mostly computes and the other mostly
# waits (servers starting, leases expiring, fences timing out):
#   compute lane: the simulator (10,000 seeds and the canaries), then the sanitizer build and its
#                 tests, then the fuzz targets (scripts/fuzz.sh, 15 s each); its output goes to
#                 build/test-logs/compute.log and is shown at the end
#   servers lane: unit, etcd, agent, sidecar, integration and fault tests (ctest), pg_regress
# (The fuzz targets moved to the compute lane once the simulator and the sanitizer tests got
# faster: the servers lane, 14 min on a 2-core CI machine, had become the longer one.)
#   PG_HA_JOBS=N      parallel build jobs (default: nproc)
#   PG_HA_SKIP_ASAN=1 skip the sanitizer build (local iterations only)
#   PG_HA_SKIP_FUZZ=1 skip the fuzz targets (local iterations only)
#   PG_HA_FUZZ_SECONDS=N  seconds per fuzz target (default here 15; scripts/fuzz.sh alone: 60)
#   PG_HA_LONG=1      the long run: also the integration and fault scenarios marked long
#                     (tests/integration/README.md, "Quick set and long run"), ~10 min more
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  # Packages, the install into PostgreSQL's directories and servers run as `postgres` need root.
  command -v sudo >/dev/null || { echo "test.sh: run as root, or as a user who may use sudo" >&2; exit 1; }
  exec sudo --preserve-env=PG_HA_JOBS,PG_HA_SKIP_ASAN,PG_HA_SKIP_FUZZ,PG_HA_FUZZ_SECONDS,PG_HA_LONG bash "$0" "$@"
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
# configure DIR ARGS...: Ninja for a new build directory (it schedules a 2-core build better than
# make); an existing one keeps the generator it was made with.
configure() {
  local dir=$1; shift
  local gen=(-G Ninja)
  [ -f "$dir/CMakeCache.txt" ] && gen=()
  cmake "${gen[@]}" -S . -B "$dir" "$@" >/dev/null
}
build() {
  # pg_regress, the sidecar and the integration tests load the module from PostgreSQL's own
  # directories: install there. Line tables only (-g1): a third less build time than full debug
  # information, and the backtraces of a failing test still name files and lines.
  configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" &&
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
# The pure code, its unit tests, the simulator and the agent under ASan + UBSan; only the targets
# these tests need are built. -O1 (not -O0): the tests are mostly the simulator and randomized
# scenarios, which run several times faster for a little more compile time; -g1 keeps the line
# numbers of a sanitizer's stack trace without full debug information.
asan() {
  # 60 seeds under the sanitizers (the plain build runs 10,000): the point here is memory and UB.
  configure build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
      -DPG_HA_SANITIZE=ON -DPG_HA_PURE_ONLY=ON &&
    cmake --build build-asan -j "$jobs" --target pg_ha_unit_tests pg_ha_etcd_codec_tests \
      pg_ha_etcd_client_unit_tests pg_ha_sim pg_ha_agent_tests &&
    (cd build-asan && PG_HA_SIM_SEEDS=60 ctest --output-on-failure -j 2 -L 'unit|sim|agent')
}
# libFuzzer targets (tests/fuzz) under ASan + UBSan, two at a time: 7 x 15 s runs take 1 min, after
# a clang build of the sources they read (about 200 s of CPU): about 4 min on 2 free cores.
fuzz_seconds=${PG_HA_FUZZ_SECONDS:-15}
fuzz() { PG_HA_FUZZ_SECONDS=$fuzz_seconds PG_HA_JOBS=$jobs bash scripts/fuzz.sh; }

# The compute lane, in a subshell of its own: its phase times come back through a file.
compute_lane() {
  phase_names=() phase_secs=() status=0
  phase "simulation (10,000 seeds, canaries)" sim_tests
  [ "${PG_HA_SKIP_ASAN:-0}" = 1 ] || phase "sanitizer build + unit, sim, agent" asan
  [ "${PG_HA_SKIP_FUZZ:-0}" = 1 ] || phase "fuzz targets (clang build, ${fuzz_seconds} s each)" fuzz
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
