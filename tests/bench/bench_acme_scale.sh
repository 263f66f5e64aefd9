#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: many certificates in one agent. One `eca-acme --once` with BENCH_CERTS (1000)
# certificates of one name each, all missing, against a speed-tuned pebble on loopback: every
# one is ordered, validated (built-in http-01 listener), issued and installed. Run once per
# concurrency in BENCH_CONC ("1 4"; 8 may meet the pebble deadlock below), over one existing
# account (set up before, not timed).
# Prints wall time, the agent's CPU (user+sys), its peak RSS, certificates/s, and pebble's CPU
# over the same run (pebble shares the machine's cores).
#
#   tests/bench/bench_acme_scale.sh                      (BENCH_CERTS=1000 BENCH_CONC="1 4")
#   BENCH_CERTS=200 BENCH_CONC="1 4" tests/bench/bench_acme_scale.sh
#
# A run that makes no progress ends at its time limit (60 s + 0.2 s per certificate) with exit
# 124: pebble 2.4's in-memory store can deadlock under concurrent newOrders (seen at
# concurrency 8 after some hundreds of orders: every handler waits on its RWMutex); pebble
# then answers nothing more. `kill -QUIT` on pebble's pid dumps its goroutines into pebble.log.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_bench.sh"
it_init
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
N=${BENCH_CERTS:-1000}
CONC=${BENCH_CONC:-1 4}
# Each certificate is issued once per run, but the runs add up for the same names.
export ISSUANCE_BUDGET=0
bench_init

bench_start_pebble

# conf DIR: N certificates under DIR/out, state in DIR/state.
conf() {
    local d=$1 i
    mkdir -p "$d/out" "$d/state"
    {
        echo "ca_url = \"$PEBBLE_DIR_URL\";"
        echo "ca_bundle = \"$PEBBLE_TLS_CA\";"
        echo "state_dir = \"$d/state\";"
        echo "http01_listen = \"127.0.0.1:$PEBBLE_HTTP01_PORT\";"
        echo "log_level = \"${BENCH_LOG_LEVEL:-info}\";"
        echo "certificates = ("
        for i in $(seq "$N"); do
            echo "  { name = \"s$i\"; domains = [ \"s$i.scale.test\" ];"
            echo "    cert_path = \"$d/out/s$i.pem\"; key_path = \"$d/out/s$i.key\"; }$([ "$i" = "$N" ] || echo ,)"
        done
        echo ");"
    } >"$d/eca-acme.conf"
}

# pebble's CPU time so far, in clock ticks (utime + stime).
pebble_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$IT_TMP/pebble.pid")/stat"; }

# The account, once: one certificate ordered with a configuration of one.
A=$IT_TMP/account
n_all=$N
N=1
conf "$A"
N=$n_all
timeout 60 "$ECA_ACME" --once --config "$A/eca-acme.conf" >"$IT_TMP/account.log" 2>&1 ||
    die "account set-up failed: $(tail -n 5 "$IT_TMP/account.log")"

HZ=$(getconf CLK_TCK)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# row: "concurrency wall_us user_s sys_s rss_kb pebble_ticks" lines into the table's rows.
row() {
    awk -v n="$N" -v hz="$HZ" '{
        w = $2 / 1e6
        printf "%-12s %9.2f %9.2f %9.2f %9.2f %12.1f %8.1f %12.2f\n", $1, w, $3, $4, $3 + $4,
            $5 / 1024, n / w, $6 / hz
    }'
}
: >"$IT_TMP/scale.txt"
for c in $CONC; do
    d=$IT_TMP/c$c
    conf "$d"
    cp "$A/state/account.key" "$A/state/account.url" "$d/state/"
    log "eca-acme --once, $N certificates, concurrency $c"
    p0=$(pebble_ticks)
    ACME_CONCURRENCY=$c bench_run "scale/c$c" timeout $((60 + N / 5)) "$ECA_ACME" --once \
        --config "$d/eca-acme.conf"
    p1=$(pebble_ticks)
    cp "$IT_TMP/last.log" "$IT_TMP/c$c.log"
    got=$(grep -c '"event":"cert_installed"' "$IT_TMP/c$c.log")
    [ "$got" = "$N" ] || die "concurrency $c: $got of $N certificates installed"
    grep -q '"event":"account_ready"' "$IT_TMP/c$c.log" && die "concurrency $c: the account was set up again"
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f %.2f", u, s}' \
        "$IT_TMP/time.txt")
    echo "$c $BENCH_LAST_US $cpu $(awk -F': ' '/Maximum resident/ {print $2}' "$IT_TMP/time.txt") $((p1 - p0))" \
        >>"$IT_TMP/scale.txt"
    log "$(tail -n 1 "$IT_TMP/scale.txt" | row)" # each run's row at once: a later run may stall
done

echo "==== $N certificates in one eca-acme --once, pebble $PEBBLE_DIR_URL (nonce reject ${BENCH_NONCEREJECT:-0}%)"
bench_machine
echo "load average (1, 5, 15 min) before the runs: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-12s %9s %9s %9s %9s %12s %8s %12s\n" concurrency wall_s user_s sys_s cpu_s \
    peak_rss_MiB certs/s pebble_cpu_s
row <"$IT_TMP/scale.txt"
