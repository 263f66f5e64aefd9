#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every libFuzzer target that `make fuzz` built (ASan/UBSan, build-fuzz/fuzz-bin/) for
# FUZZ_SECONDS (first argument, default 30), seeded from its corpus dir and the fixture dirs its
# .seeds file names. Fails, printing the crash input path, if any target crashes.
# Seeds are copied into a scratch corpus under build-fuzz/, so the repo is never modified.
set -eu

secs=${1:-${FUZZ_SECONDS:-30}}
[ -n "$secs" ] || secs=30
out=${FUZZ_BUILD:-build-fuzz}
only=${FUZZ_ONLY:-}

# The binaries come from the Makefile (`make fuzz` builds $out/fuzz-bin/ with clang first).
targets=""
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    if [ -n "$only" ]; then
        case $name in $only) ;; *) continue ;; esac
    fi
    [ -x "$out/fuzz-bin/$name" ] || {
        echo "fuzz: $out/fuzz-bin/$name missing: run it through \`make fuzz\`" >&2
        exit 2
    }
    targets="$targets $name"
done
[ -n "$targets" ] || { echo "fuzz: no target matches '${only:-*}'" >&2; exit 2; }

# Fill a scratch corpus from the committed seeds (flattened; names prefixed to stay unique).
seed_corpus() {
    name=$1 corpus=$2
    rm -rf "$corpus"
    mkdir -p "$corpus"
    dirs="tests/fuzz/corpus/$name"
    [ -f "tests/fuzz/$name.seeds" ] && dirs="$dirs $(cat "tests/fuzz/$name.seeds")"
    for d in $dirs; do
        [ -d "$d" ] || continue
        find "$d" -type f | while IFS= read -r f; do
            cp "$f" "$corpus/seed_$(echo "$f" | tr '/' '_')"
        done
    done
}

fail=0
for name in $targets; do
    corpus="$out/corpus/$name"
    art="$out/artifacts/$name/"
    seed_corpus "$name" "$corpus"
    rm -rf "$art"
    mkdir -p "$art"
    log="$out/$name.log"
    echo "fuzz: $name for ${secs}s ($(ls "$corpus" | wc -l) seeds)"
    if "$out/fuzz-bin/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$art" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
        echo "PASS $name $(grep -E '^stat::number_of_executed_units' "$log" | tr -s ' ')"
    else
        fail=1
        echo "FAIL $name (log: $log)"
        tail -n 30 "$log"
        for a in "$art"*; do
            [ -f "$a" ] && echo "fuzz: crash input: $a"
        done
    fi
done
[ $fail -eq 0 ] && echo "fuzz: all targets ran ${secs}s without a crash"
exit $fail
