#!/bin/sh
# SPDX-License-Identifier: MIT
# Replay every seed (tests/fuzz/corpus/<target>/ and the fixtures it names) through each fuzz target.
set -u
build=$1; shift
fail=0
for t in "$@"; do
    name=$(basename "$t")
    dirs="tests/fuzz/corpus/$name"
    [ -f "tests/fuzz/$name.seeds" ] && dirs="$dirs $(cat "tests/fuzz/$name.seeds")"
    if timeout 300 "$t" $dirs </dev/null >"$t.log" 2>&1; then
        echo "PASS $name $(tail -n 1 "$t.log")"
    else
        echo "FAIL $name"; tail -n 20 "$t.log"; fail=1
    fi
done
exit $fail
