#!/bin/bash
# SPDX-License-Identifier: MIT
# Run every tests/integration/*.sh scenario, each bounded in time; print a table of results.
set -u
export BUILD=${BUILD:-build}
export ECA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
only=${ECA_IT_ONLY:-}
fail=0
results=()
for t in "$ECA_ROOT"/tests/integration/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    case "$name" in lib*) continue ;; esac
    if [ -n "$only" ] && [[ "$name" != $only ]]; then continue; fi
    log="$ECA_ROOT/$BUILD/it-$name.log"
    mkdir -p "$(dirname "$log")"
    start=$(date +%s)
    # A scenario may ask for a longer bound with a line "# eca-timeout: SECONDS".
    limit=$(sed -n 's/^# eca-timeout: *\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
    if timeout "${limit:-600}" bash "$t" >"$log" 2>&1; then r=PASS; else r=FAIL; fail=1; fi
    secs=$(( $(date +%s) - start ))
    results+=("$(printf '%-4s %-40s %4ss' "$r" "$name" "$secs")")
    echo "${results[-1]}"
    [ "$r" = FAIL ] && tail -n 60 "$log"
done
echo "---- integration summary ----"
printf '%s\n' "${results[@]}"
exit $fail
