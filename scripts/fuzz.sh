#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang, ASan + UBSan) in build-fuzz and runs each for a
# fixed time against a copy of its seed corpus (the corpus in the repo never grows here). Prints
# one line per target (runs, execs/s, result) and exits non-zero on any crash, leak, timeout,
# sanitizer report or broken property, naming the input that caused it.
#   PG_HA_FUZZ_SECONDS=N           seconds per target (default 60)
#   PG_HA_FUZZ_JOBS=N              targets run at once (default 2, at most 2)
#   PG_HA_FUZZ_TARGETS="view ..."  a subset (default: every folder in tests/fuzz/corpus)
#   PG_HA_JOBS=N                   build jobs (default: nproc)
#   PG_HA_SANITIZER_TESTS=1        first build and run, in the same instrumented build, the pure
#                                  code's tests (ctest labels unit, sim, agent; scripts/test.sh
#                                  does): one clang build serves the sanitizer tests and the fuzzing
# Reproduce a failure: build-fuzz/tests/fuzz/fuzz_<target> <the input file it names>
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${PG_HA_FUZZ_SECONDS:-60}
par=${PG_HA_FUZZ_JOBS:-2}
[ "$par" -ge 1 ] && [ "$par" -le 2 ] || par=2
jobs=${PG_HA_JOBS:-$(nproc)}
build=build-fuzz
runs=$build/fuzz-runs

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "fuzz.sh: installing clang and its libFuzzer runtime"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi

# -O1 with asserts on and line tables for the reports: about as fast to fuzz as -O2, quicker to build.
bash scripts/configure.sh "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER=clang++ -DPG_HA_FUZZ=ON
if [ "${PG_HA_SANITIZER_TESTS:-0}" = 1 ]; then
  # Fewer seeds than the plain build runs (10,000 in the simulator): here the point is memory and
  # undefined behaviour, which the first seeds reach as well as the last.
  cmake --build "$build" -j "$jobs" --target fuzz_targets pg_ha_unit_tests pg_ha_etcd_codec_tests \
    pg_ha_etcd_client_unit_tests pg_ha_sim pg_ha_agent_tests
  (cd "$build" && PG_HA_SIM_SEEDS=40 PG_HA_UNIT_SEEDS=6 ctest --output-on-failure -j 2 -L 'unit|sim|agent')
fi
cmake --build "$build" -j "$jobs" --target fuzz_targets

targets=${PG_HA_FUZZ_TARGETS:-$(ls tests/fuzz/corpus)}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_one TARGET: a fresh copy of the seeds; new inputs and any crash stay under $runs/TARGET.
run_one() {
  local t=$1 dir=$runs/$1 rc=0
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$dir/corpus/"
  nice -n 10 "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo $rc >"$dir/rc"
}

# summary TARGET: one line; returns 1 when the run failed.
summary() {
  local t=$1 dir=$runs/$1 rc execs speed seeds found input why
  rc=$(cat "$dir/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  seeds=$(ls tests/fuzz/corpus/"$t" | wc -l)
  found=$(ls "$dir/corpus" | wc -l)
  if [ "$rc" = 0 ]; then
    printf '  %-18s ok     %10s runs  %7s execs/s  corpus %s -> %s\n' "$t" "${execs:-?}" "${speed:-?}" "$seeds" "$found"
    return 0
  fi
  input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -1)
  why=$(grep -m1 -E 'ERROR: |runtime error|property violated|Assertion' "$dir/log" || echo "exit code $rc")
  printf '  %-18s FAILED %10s runs  %7s execs/s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "$why"
  printf '  %-18s        input: %s  log: %s\n' "" "${input:-none written}" "$dir/log"
  return 1
}

echo "== fuzzing: $(echo $targets | wc -w) targets, $secs s each, $par at a time (logs in $runs) =="
set -- $targets
while [ $# -gt 0 ]; do
  batch=("$@")
  batch=("${batch[@]:0:$par}")
  for t in "${batch[@]}"; do run_one "$t" & done
  wait
  shift ${#batch[@]}
done
status=0
for t in $targets; do summary "$t" || status=1; done
exit $status
