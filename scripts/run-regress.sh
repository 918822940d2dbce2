#!/usr/bin/env bash
# pg_regress suite for the pg_ha SQL API on a real, throw-away PostgreSQL 15 server.
#   scripts/run-regress.sh <build-dir>
# Installs pg_ha.so, pg_ha.control and the SQL script from <build-dir> into PostgreSQL's own
# directories, then runs each phase on a fresh server with shared_preload_libraries = pg_ha.
# One file per phase in scripts/regress/, helpers in scripts/regress/lib.sh:
#   not_preloaded  CREATE EXTENSION without shared_preload_libraries is refused clearly
#   standalone     no etcd configured (regress/standalone_schedule); the worker's exit codes
#   replica        a standalone hot standby of a standalone primary (regress/replica_schedule)
#   fenced         etcd configured but hanging: a primary that may not write (regress/fenced_schedule)
#   etcd           a real etcd on free loopback ports, when pg_ha was built with the etcd client
#                  (regress/etcd_*_schedule, plus checks of fence timing, session termination,
#                  lease release on shutdown and a kill -9 of the postmaster)
#   cannot_run     on that etcd with authentication: a node that cannot run says why, and retries
# PG_HA_KEEP_REGRESS=1 keeps the work directory (data, logs, results) for inspection;
# PG_HA_REGRESS_PHASES="etcd fenced" runs only the phases named (while working on one of them).
# PG_HA_REGRESS_BIN_DIR=<tree>/usr/lib/postgresql/15/bin runs a private copy of PostgreSQL (its
# lib and share beside it, as PostgreSQL finds them) and installs the module there instead of
# into the system's directories.
# Runs as root (CI) or as any user who may write PostgreSQL's directories; the server itself runs
# as `postgres`. Stops everything it started, also on failure. Exit code: 0 when every phase passed.
set -euo pipefail

phases="not_preloaded standalone replica fenced etcd cannot_run"

build=${1:?usage: run-regress.sh <build-dir>}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
bindir=$(pg_config --bindir)
[ -x /usr/lib/postgresql/15/bin/initdb ] && bindir=/usr/lib/postgresql/15/bin
pg_config="pg_config"
if [ -n "${PG_HA_REGRESS_BIN_DIR:-}" ]; then bindir=$PG_HA_REGRESS_BIN_DIR; pg_config="$bindir/pg_config"; fi
pg_regress="$("$pg_config" --pkglibdir)/pgxs/src/test/regress/pg_regress"

source "$top/scripts/regress/lib.sh"
for phase in $phases; do source "$top/scripts/regress/$phase.sh"; done

main() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/pg_ha_regress.XXXXXX")
  chmod 0755 "$work"
  trap cleanup EXIT
  install_module
  status=0
  for phase in ${PG_HA_REGRESS_PHASES:-$phases}; do
    "phase_$phase"
  done
  exit $status
}

main
