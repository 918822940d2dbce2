#!/usr/bin/env bash
# Installs every Debian package pg_ha needs to build, test, run the demo and the benchmarks.
# Idempotent and quiet when everything is already there.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ make pkg-config
  postgresql-15 postgresql-server-dev-15 libpq-dev libkrb5-dev
  libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev libssl-dev
  libgtest-dev libgmock-dev
  libcli11-dev libfmt-dev   # pg_hactl
  clang libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
  libtcmalloc-minimal4      # the simulator's allocator (tests/sim/CMakeLists.txt)
  # run and test
  etcd-server etcd-client openssl curl procps iproute2 nftables psmisc
  python3 python3-psycopg2
  python3-prometheus-client   # /metrics checked by a real parser
  haproxy pgbouncer           # the example configs in docs/examples, run by the integration tests
)
if [ "${PG_HA_WITH_BENCH:-0}" = 1 ]; then PACKAGES+=(patroni); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian units must not hold the default ports or run beside the tests: tests start their own
# etcd, HAProxy and pgbouncer.
if command -v systemctl >/dev/null 2>&1; then
  for unit in etcd haproxy pgbouncer; do $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true; done
fi
pkill -x etcd -u etcd 2>/dev/null || true
