#!/bin/sh
# SPDX-License-Identifier: MIT
# Build every tests/fuzz/fuzz_*.c with libFuzzer + ASan/UBSan into build-fuzz/ and run each for
# FUZZ_SECONDS (first argument, default 30), seeded from its corpus dir and the fixture dirs its
# .seeds file names. Fails, printing the crash input path, if any target crashes.
# Seeds are copied into a scratch corpus under build-fuzz/, so the repo is never modified.
set -eu

secs=${1:-${FUZZ_SECONDS:-30}}
[ -n "$secs" ] || secs=30
out=${FUZZ_BUILD:-build-fuzz}
cc=${FUZZ_CC:-clang}
only=${FUZZ_ONLY:-}

command -v "$cc" >/dev/null 2>&1 || {
    echo "fuzz: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
}

pkgs="openssl libcurl json-c libconfig"
pkg_cflags=$(pkg-config --cflags $pkgs)
pkg_libs=$(pkg-config --libs $pkgs)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -O1 -g -fno-omit-frame-pointer -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
-Icommon -Ieca-acme -Ieca-est -Itests/support $pkg_cflags $san"

mkdir -p "$out/obj" "$out/bin"

# Compile one source into $out/obj (rebuilt when the source or any header is newer).
compile() {
    src=$1 flags=$2
    obj="$out/obj/$(echo "$src" | tr '/' '_').o"
    if [ ! -f "$obj" ] || [ -n "$(find "$src" common eca-acme eca-est -newer "$obj" \
        -name '*.[ch]' 2>/dev/null | head -n 1)" ]; then
        # shellcheck disable=SC2086
        "$cc" $cflags $flags -c "$src" -o "$obj" || return 1
    fi
    echo "$obj"
}

# Library sources get coverage instrumentation only; libFuzzer's main comes in at link time.
lib_objs() {
    for s in "$@"; do
        compile "$s" "-fsanitize=fuzzer-no-link" || return 1
    done
}

# The raw HTTP parser lives with the test support: only fixtures and fuzz targets use it.
common_src="$(ls common/*.c | grep -v '_win\.c$') tests/support/http_raw.c"
acme_src=$(ls eca-acme/*.c | grep -v '/main\.c$')
est_src=$(ls eca-est/*.c | grep -v '/main\.c$')

echo "fuzz: building libraries with $cc"
common_objs=$(lib_objs $common_src)
acme_objs=$(lib_objs $acme_src)
est_objs=$(lib_objs $est_src)

targets=""
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    if [ -n "$only" ]; then
        case $name in $only) ;; *) continue ;; esac
    fi
    extra=""
    case $name in
    fuzz_acme_*) extra=$acme_objs ;;
    fuzz_est_*) extra=$est_objs ;;
    esac
    tobj=$(compile "$src" "-fsanitize=fuzzer-no-link")
    echo "  LINK    $out/bin/$name"
    # shellcheck disable=SC2086
    "$cc" $san -fsanitize=fuzzer -o "$out/bin/$name" "$tobj" $extra $common_objs $pkg_libs
    targets="$targets $name"
done

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
    if "$out/bin/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
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
