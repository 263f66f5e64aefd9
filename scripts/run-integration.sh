#!/bin/bash
# SPDX-License-Identifier: MIT
# Run every tests/integration/*.sh scenario, each bounded in time; print a table of results.
# A scenario's verdict is its exit status: 0 PASS, 77 SKIP (it could not run here), else FAIL.
# Under CI every package is installed by scripts/deps.sh, so a SKIP there is counted as a
# failure: CI must not go green on something it never ran.
set -u
shopt -s extglob # ECA_IT_ONLY may be a pattern such as "!(windows_wine|compose_docker)"
export BUILD=${BUILD:-build}
export ECA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
only=${ECA_IT_ONLY:-}
fail=0 npass=0 nskip=0 nfail=0
results=()
t_all=$(date +%s)
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
    # stdin from /dev/null: timeout runs the scenario in its own process group, and anything
    # in it that read a terminal would be stopped by job control until the limit.
    timeout -k 10 "${limit:-600}" bash "$t" </dev/null >"$log" 2>&1
    rc=$?
    case $rc in
    0) r=PASS npass=$((npass + 1)) ;;
    77)
        r=SKIP nskip=$((nskip + 1))
        if [ -n "${CI:-}" ]; then r="SKIP (a failure under CI)" fail=1; fi
        ;;
    124 | 137) r="FAIL (time limit ${limit:-600}s)" nfail=$((nfail + 1)) fail=1 ;;
    *) r="FAIL (exit $rc)" nfail=$((nfail + 1)) fail=1 ;;
    esac
    secs=$(($(date +%s) - start))
    results+=("$(printf '%-4s %-40s %4ss' "${r%% *}" "$name" "$secs")${r#????}")
    echo "${results[-1]}"
    case $r in
    FAIL*) tail -n 60 "$log" ;;
    SKIP*) grep -m1 -i 'skip' "$log" | sed 's/^/    /' ;;
    esac
done
echo "---- integration summary: $npass passed, $nskip skipped, $nfail failed ($(($(date +%s) - t_all)) s) ----"
printf '%s\n' "${results[@]}"
if [ ${#results[@]} = 0 ]; then
    echo "no scenario matched '${only:-*}'" >&2
    exit 1
fi
exit $fail
