#!/usr/bin/env bash
# Removes what scripts/test.sh and scripts/demo.sh (cmake --install) put into PostgreSQL's own
# directories: pg_ha.so, the extension's control and SQL files, and pg_ha_sidecar. Stop the demo
# first (bash scripts/demo.sh stop); a server with shared_preload_libraries = pg_ha will not start
# once the module is gone. Debian packages installed by scripts/install-deps.sh stay.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "uninstall.sh: run as root, or as a user who may use sudo" >&2; exit 1; }
  exec sudo bash "$0" "$@"
fi
command -v pg_config >/dev/null || { echo "uninstall.sh: pg_config not found: nothing was installed" >&2; exit 0; }
files=("$(pg_config --pkglibdir)/pg_ha.so"
       "$(pg_config --sharedir)/extension/pg_ha.control"
       "$(pg_config --bindir)/pg_ha_sidecar")
for f in "$(pg_config --sharedir)"/extension/pg_ha--*.sql; do files+=("$f"); done
removed=0
for f in "${files[@]}"; do
  if [ -e "$f" ]; then rm -f "$f"; echo "removed $f"; removed=$((removed + 1)); fi
done
[ $removed -gt 0 ] || echo "pg_ha is not installed in PostgreSQL's directories"
