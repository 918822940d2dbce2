#!/usr/bin/env bash
# The main job: a local 3-node pg_ha cluster with its own etcd on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
echo "pg_ha: the cluster demo is not there yet (issue 'A real cluster end to end'); build is OK."
