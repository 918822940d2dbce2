#!/usr/bin/env bash
# The simulator's long run (issue 15: 1,000,000 seeds, 0 violations), resumable: seeds 1..N in
# chunks of 20,000, one log per chunk under $out. Each finished chunk is also appended to
# tests/sim-million-ledger.txt, keyed by the sources the simulator is built from (the C++ files
# of extension/core, extension/common and tests/sim at HEAD, which must be committed; docs, seed
# lists and CMake files there do not count). A chunk the ledger shows with "0 failed" for the same
# sources is not run again: the run can be stopped at any time and continued in another session
# or on another machine, as long as those sources did not change; commit the ledger with the rest.
# It runs at nice 19, so other work barely notices.
# Prints one line per chunk and the total; exits non-zero when any seed failed (the chunk's log
# has the seed and the command that replays it).
#   bash scripts/sim-million.sh [SIM_BINARY] [OUT_DIR]   (SIM_BINARY built from HEAD)
#   PG_HA_SIM_TOTAL=N  seeds in all (default 1000000)   PG_HA_SIM_CHUNK=N (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
sim=${1:-build/tests/sim/pg_ha_sim}
out=${2:-build/sim-million}
total=${PG_HA_SIM_TOTAL:-1000000}
chunk=${PG_HA_SIM_CHUNK:-20000}
ledger=tests/sim-million-ledger.txt
sources=(extension/core extension/common tests/sim)
[ -x "$sim" ] || { echo "sim-million.sh: no simulator at $sim (build the target pg_ha_sim)" >&2; exit 2; }
code=$(git ls-files -- "${sources[@]}" | grep -E '\.(cpp|hpp|h)$')
if ! git diff --quiet HEAD -- $code; then
  echo "sim-million.sh: the simulator's sources (${sources[*]}) have uncommitted changes: commit them and build from HEAD" >&2
  exit 2
fi
src=$(git ls-tree -r HEAD -- $code | sha256sum | cut -c1-16)
mkdir -p "$out"
touch "$ledger"
failed=0 done_seeds=0

# nice 19 alone is not enough: with the kernel's autogroups (sched_autogroup_enabled), nice ranks
# processes only within their session, and sessions share the CPU equally. A session of its own
# whose autogroup is at nice 19 yields to everything else on the machine (measured: a compile
# beside it went from ~45 % to ~85 % of a core each).
low_priority() {
  setsid -w bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' _ "$@"
}

for ((first = 1; first <= total; first += chunk)); do
  n=$(( total - first + 1 < chunk ? total - first + 1 : chunk ))
  range="seeds $first..$(( first + n - 1 ))"
  line=$(grep -m1 "^sources $src $range: .* 0 failed;" "$ledger" | sed "s/^sources $src $range: //" || true)
  if [ -z "$line" ]; then
    log=$out/$first.log
    { echo "sources $src"; low_priority "$sim" --seeds "$n" --first "$first" --jobs "$(nproc)" 2>&1; } >"$log.tmp" || true
    mv "$log.tmp" "$log"
    line=$(grep -m1 ' seeds in ' "$log" || echo "no summary (see $log)")
    fails=$(grep -m1 '^failing seeds:' "$log" || true)
    echo "sources $src $range: $line${fails:+ ($fails)}" >>"$ledger"
  fi
  printf '%-22s %s\n' "$range" "$line"
  case $line in *' 0 failed;'*) ;; *) failed=1 ;; esac
  done_seeds=$(( done_seeds + n ))
done
echo "sim-million: $done_seeds seeds, sources $src: $([ $failed = 0 ] && echo '0 failed' || echo 'FAILURES, see the logs above')"
exit $failed
