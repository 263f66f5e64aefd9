#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared helpers for the benchmarks (on top of tests/integration/lib.sh): timed runs, stats,
# a pebble tuned for speed, and log-timestamp latencies. Benchmarks print numbers; they
# assert only that each run succeeded.

BENCH_N=${BENCH_N:-10}
BENCH_RESULTS=

# bench_init: the results file (one "label wall_ms rss_kb" line per run).
bench_init() {
    BENCH_RESULTS="$IT_TMP/results.txt"
    : >"$BENCH_RESULTS"
}

# bench_run LABEL CMD...: run CMD once under /usr/bin/time -v, record its wall time (ms, from
# the monotonic-enough wall clock around it; time -v itself only has 10 ms resolution) and
# peak RSS (kB). Output of CMD goes to $IT_TMP/last.log. A failed run aborts the benchmark.
bench_run() {
    local label=$1 t0 t1 rss rc=0
    shift
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$IT_TMP/time.txt" "$@" >"$IT_TMP/last.log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    if [ "$rc" != 0 ]; then
        tail -n 20 "$IT_TMP/last.log" >&2
        die "$label: '$*' exited $rc"
    fi
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$IT_TMP/time.txt")
    echo "$label $(((t1 - t0) / 1000)) $rss" >>"$BENCH_RESULTS"
    # shellcheck disable=SC2034 # read by the scripts that sum several runs
    BENCH_LAST_US=$(((t1 - t0) / 1000))
}

# bench_add LABEL WALL_US RSS_KB: record a run measured some other way.
bench_add() { echo "$1 $2 $3" >>"$BENCH_RESULTS"; }

# bench_report LABEL: one summary line of the runs recorded under LABEL (the median too: a
# shared 2-core machine has outliers).
bench_report() {
    awk -v l="$1" '$1 == l {print $2 / 1000, $3}' "$BENCH_RESULTS" | sort -n | awk -v l="$1" '{
        n++; w[n] = $1; s += $1; rs += $2; if ($2 > rmx) rmx = $2
    } END {
        if (n == 0) { printf "%-34s no runs\n", l; exit }
        printf "%-34s n=%-3d wall_ms median=%7.1f mean=%7.1f min=%7.1f max=%7.1f   peak_rss_kb mean=%6.0f max=%6d\n",
            l, n, (n % 2 ? w[(n + 1) / 2] : (w[n / 2] + w[n / 2 + 1]) / 2), s / n, w[1], w[n], rs / n, rmx
    }'
}

# bench_median LABEL: the median wall time (us) of the runs recorded under LABEL.
bench_median() {
    awk -v l="$1" '$1 == l {print $2}' "$BENCH_RESULTS" | sort -n |
        awk '{v[++n] = $1} END {if (n) print (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)}'
}

# bench_ratio A B: the ratio of the median wall times of the runs recorded as A and as B.
bench_ratio() {
    awk -v a="$(bench_median "$1")" -v b="$(bench_median "$2")" -v la="$1" -v lb="$2" \
        'BEGIN { if (b > 0) printf "  ratio of medians %s / %s = %.2f\n", la, lb, a / b }'
}

# bench_stats LABEL: median/mean/min/max of the numbers on stdin (one per line), in ms.
bench_stats() {
    sort -n | awk -v l="$1" '{ n++; v[n] = $1; s += $1 }
        END { if (n == 0) { printf "%-34s no samples\n", l; exit }
              printf "%-34s n=%-3d ms      median=%7.1f mean=%7.1f min=%7.1f max=%7.1f\n", l, n,
                  (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), s / n, v[1], v[n] }'
}

# bench_machine: one paragraph describing the machine, for the report.
bench_machine() {
    echo "machine: $(nproc) CPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM," \
        "$(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "versions: $(openssl version | cut -d' ' -f1-2), curl $(curl --version | head -n1 | cut -d' ' -f2)," \
        "pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null)," \
        "python $(python3 -c 'import sys; print(sys.version.split()[0])')"
}

# bench_start_pebble: start_pebble with PEBBLE_WFE_NONCEREJECT=${BENCH_NONCEREJECT:-0}
# (the integration tests use 20 to exercise badNonce retries; a benchmark measures the
# happy path). lib.sh sets the variable on pebble's command line, so a wrapper earlier in
# PATH overrides it.
bench_start_pebble() {
    local real
    real=$(command -v pebble) || die "pebble not installed (scripts/deps.sh)"
    mkdir -p "$IT_TMP/bin"
    printf '#!/bin/sh\nPEBBLE_WFE_NONCEREJECT=%s exec %s "$@"\n' "${BENCH_NONCEREJECT:-0}" \
        "$real" >"$IT_TMP/bin/pebble"
    chmod +x "$IT_TMP/bin/pebble"
    PATH="$IT_TMP/bin:$PATH" start_pebble "$@"
}

# bench_log_latency LOG START_EVENT END_EVENT: ms between each START and the next END line
# of a JSON-lines agent log (from the "ts" fields, millisecond resolution).
bench_log_latency() {
    python3 - "$1" "$2" "$3" <<'PY'
import datetime, json, sys
path, start_ev, end_ev = sys.argv[1:4]
t0 = None
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    ts = datetime.datetime.fromisoformat(j["ts"].replace("Z", "+00:00"))
    if j.get("event") == start_ev:
        t0 = ts
    elif j.get("event") == end_ev and t0 is not None:
        print(round((ts - t0).total_seconds() * 1000, 1))
        t0 = None
PY
}

# bench_log_field LOG EVENTS FIELD: the numeric FIELD of every line whose event matches the
# extended regex EVENTS (e.g. "cert_issued|cert_installed").
bench_log_field() {
    grep -E "\"event\":\"($2)\"" "$1" | sed -n "s/.*\"$3\":\\([0-9.]*\\).*/\\1/p"
}
