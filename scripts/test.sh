#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing, builds, runs
# every suite and prints the runners' own summaries (ctest, pg_regress).
#   PG_HA_JOBS=N      parallel build jobs (default: nproc)
#   PG_HA_SKIP_ASAN=1 skip the sanitizer build of the pure code (local iterations only)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${PG_HA_JOBS:-$(nproc)}

bash scripts/install-deps.sh

echo "== build (RelWithDebInfo) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
# pg_regress and the integration tests load the module from PostgreSQL's own directories.
cmake --install build >/dev/null

status=0
echo "== ctest: unit, simulation, etcd client, sidecar, integration, faults =="
# The faults label runs its quick set here (needs root and nft; tests/faults/README.md);
# PG_HA_FAULTS=all adds the slower scenarios.
(cd build && ctest --output-on-failure -j 2 --timeout 900) || status=1

if [ -x scripts/run-regress.sh ]; then
  echo "== pg_regress =="
  bash scripts/run-regress.sh build || status=1
fi

if [ "${PG_HA_SKIP_ASAN:-0}" != 1 ]; then
  echo "== sanitizer build (ASan + UBSan) of the pure code: unit and simulation tests =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPG_HA_SANITIZE=ON -DPG_HA_PURE_ONLY=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  # 150 seeds under the sanitizers (the plain build runs 10,000): the point here is memory and UB.
  (cd build-asan && PG_HA_SIM_SEEDS=150 ctest --output-on-failure -j 2 -L 'unit|sim') || status=1
fi

exit $status
