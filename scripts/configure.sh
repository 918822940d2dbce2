#!/usr/bin/env bash
# configure.sh DIR [CMAKE ARGS...]: configures a build directory of this checkout. A new one gets
# Ninja (it schedules a 2-core build better than make); an existing one keeps the generator it was
# made with (cmake refuses to switch). Used by test.sh, fuzz.sh, demo.sh and bench/setup.sh.
set -euo pipefail
dir=$1; shift
gen=(-G Ninja)
[ -f "$dir/CMakeCache.txt" ] && gen=()
exec cmake "${gen[@]}" -S . -B "$dir" "$@" >/dev/null
