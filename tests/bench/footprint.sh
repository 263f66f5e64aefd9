#!/bin/bash
# SPDX-License-Identifier: MIT
# Footprint of an idle daemon: resident memory (VmRSS, VmHWM, RssAnon, RssFile from /proc)
# and wake-ups over BENCH_SECONDS (default 60) for eca-acme and eca-est managing 1 and 1,000
# (BENCH_CERT_COUNTS) certificates that need nothing (valid for ten years, generated here by
# gen_certs.py), all four daemons measured at once. Wake-ups: the change of voluntary +
# involuntary context switches summed over the process's threads (/proc/PID/task/*/status),
# and the system calls `strace -f` saw in the same window. Targets: RssAnon at most 2 MiB with
# one certificate and 4 MiB with 1,000; no wake-up between scheduled actions.
# Prints a table; with --readme also writes it into the "Footprint" section of README.md.
. "$(dirname "$0")/../integration/lib.sh"
it_init
SECS=${BENCH_SECONDS:-60}
COUNTS=${BENCH_CERT_COUNTS:-"1 1000"}
README=""
[ "${1:-}" = --readme ] && README="$(dirname "$0")/README.md"
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
command -v strace >/dev/null || die "strace not installed"
unset CA_URL CA_BUNDLE STATE_DIR DOMAIN_NAME CERT_PATH KEY_PATH CHAIN_PATH RELOAD_COMMAND \
    FORCE_RENEWAL KEY_TYPE RENEWAL_THRESHOLD_PERCENT CHECK_INTERVAL_SECONDS HTTP01_LISTEN WEBROOT \
    SUBJECT_DN SANS EST_USERNAME BOOTSTRAP_TOKEN BOOTSTRAP_TOKEN_FILE CA_CERTS_PATH MAX_AGE_SECONDS

max_n=0
for n in $COUNTS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
log "generating $max_n ten-year certificates (EC P-256) from a throwaway CA"
C=$IT_TMP/certs
python3 "$(dirname "$0")/gen_certs.py" "$max_n" "$C" 100
(umask 077 && echo "not-a-real-token" >"$C/token")
DEAD_PORT=$(free_port) # nothing listens: an agent that had work to do would fail, visibly

# conf AGENT N: a configuration with N certificates for that agent.
conf() {
    local agent=$1 n=$2 d=$IT_TMP/$1-$2 i
    mkdir -p "$d/state" "$d/webroot"
    {
        if [ "$agent" = acme ]; then
            echo "ca_url = \"https://127.0.0.1:$DEAD_PORT/dir\";"
            echo "webroot = \"$d/webroot\";"
        else
            echo "ca_url = \"https://127.0.0.1:$DEAD_PORT\";"
            echo "est_username = \"bench\";"
            echo "bootstrap_token_file = \"$C/token\";"
            echo "crl_enabled = false;"
        fi
        echo "ca_bundle = \"$C/ca.pem\";"
        echo "state_dir = \"$d/state\";"
        echo "log_level = \"debug\";"
        echo "certificates = ("
        for i in $(seq "$n"); do
            [ "$i" -gt 1 ] && echo ","
            if [ "$agent" = acme ]; then
                echo "{ name = \"c$i\"; domains = [ \"c$i.bench.test\" ];"
            else
                echo "{ name = \"c$i\"; subject_dn = \"CN=c$i.bench.test,O=Example\";"
                echo "  sans = [ \"c$i.bench.test\" ];"
            fi
            k=$(((i - 1) / 100))
            echo "  cert_path = \"$C/d$k/c$i.pem\"; key_path = \"$C/d$k/c$i.key\"; }"
        done
        echo ");"
    } >"$d/agent.conf"
}

# proc_sum PID FIELD: FIELD summed over the threads of PID.
proc_sum() {
    cat /proc/"$1"/task/*/status 2>/dev/null | awk -v f="$2:" '$1 == f {s += $2} END {print s + 0}'
}
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
# smaps_kb PID FIELD...: the sum of those fields of /proc/PID/smaps_rollup (kB).
smaps_kb() {
    local p=$1
    shift
    awk -v fs=" $* " 'index(fs, " " substr($1, 1, length($1) - 1) " ") {s += $2} END {print s + 0}' \
        "/proc/$p/smaps_rollup"
}

declare -A PID STRACE
RUNS=()
for n in $COUNTS; do
    for agent in acme est; do
        conf "$agent" "$n"
        bin=$ECA_ACME
        [ "$agent" = est ] && bin=$ECA_EST
        bg_start "$agent-$n" "$bin" --config "$IT_TMP/$agent-$n/agent.conf"
        PID[$agent-$n]=$BG_PID
        RUNS+=("$agent-$n")
    done
done
# Settled: the first pass is over (the loop logs "sleeping"), and the log is quiet.
for r in "${RUNS[@]}"; do
    for _ in $(seq 300); do
        grep -q '"event":"sleeping"' "$IT_TMP/$r.log" && break
        kill -0 "${PID[$r]}" 2>/dev/null || die "$r exited (see $r.log)"
        sleep 0.1
    done
    grep -q '"event":"sleeping"' "$IT_TMP/$r.log" || log "$r: no \"sleeping\" event after 30 s"
done
sleep 2
for r in "${RUNS[@]}"; do
    bg_start "strace-$r" strace -f -qq -tt -p "${PID[$r]}" -o "$IT_TMP/strace-$r.txt"
    STRACE[$r]=$BG_PID
done
sleep 2 # attaching interrupts the sleep once: leave that out of the window
declare -A CS0 LINES0 SC0
for r in "${RUNS[@]}"; do
    CS0[$r]=$(($(proc_sum "${PID[$r]}" voluntary_ctxt_switches) + $(proc_sum "${PID[$r]}" nonvoluntary_ctxt_switches)))
    LINES0[$r]=$(wc -l <"$IT_TMP/$r.log")
    SC0[$r]=$(wc -l <"$IT_TMP/strace-$r.txt")
done
log "measuring ${SECS}s of idle time for: ${RUNS[*]}"
sleep "$SECS"
TABLE=$IT_TMP/table.md
{
    echo "| agent | certificates | VmRSS | VmHWM | RssAnon | RssFile | Pss | Private | threads | context switches in ${SECS} s | syscalls in ${SECS} s | log lines in ${SECS} s | renewals attempted |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$TABLE"
for r in "${RUNS[@]}"; do
    p=${PID[$r]}
    kill -0 "$p" 2>/dev/null || die "$r exited during the measurement"
    cs=$(($(proc_sum "$p" voluntary_ctxt_switches) + $(proc_sum "$p" nonvoluntary_ctxt_switches) - CS0[$r]))
    sc=$(($(wc -l <"$IT_TMP/strace-$r.txt") - SC0[$r]))
    ll=$(($(wc -l <"$IT_TMP/$r.log") - LINES0[$r]))
    att=$(grep -cE '"event":"(renew_started|order_started|enroll_started|renew_failed)"' "$IT_TMP/$r.log" || true)
    kib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
    echo "| ${r%-*} | ${r##*-} | $(kib "$(proc_kb "$p" VmRSS)") | $(kib "$(proc_kb "$p" VmHWM)") | $(kib "$(proc_kb "$p" RssAnon)") | $(kib "$(proc_kb "$p" RssFile)") | $(kib "$(smaps_kb "$p" Pss)") | $(kib "$(smaps_kb "$p" Private_Clean Private_Dirty)") | $(proc_kb "$p" Threads) | $cs | $sc | $ll | $att |" >>"$TABLE"
    if [ "$sc" -gt 0 ]; then
        tail -n +$((SC0[$r] + 1)) "$IT_TMP/strace-$r.txt" | head -n 5 | sed "s/^/  $r strace: /" >&2
    fi
done
for r in "${RUNS[@]}"; do kill "${STRACE[$r]}" 2>/dev/null || true; done
echo
cat "$TABLE"
MACHINE="$(nproc) CPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr), $(date -u +%Y-%m-%d)"
echo "machine: $MACHINE"

# verdict COUNT LIMIT_KIB: "X MiB (under|OVER) the target" for the largest RssAnon of the rows
# with COUNT certificates.
verdict() {
    awk -F'|' -v n="$1" -v lim="$2" 'NR > 2 && $3 + 0 == n {v = $6 + 0; if (v > m) m = v}
        END {printf "%.1f MiB with %d (%s the %.0f MiB target)", m, n, (m * 1024 <= lim ? "under" : "OVER"), lim / 1024}' "$TABLE"
}
if [ -n "$README" ]; then
    SECTION=$IT_TMP/section.md
    {
        echo "## Footprint"
        echo
        echo "\`tests/bench/footprint.sh --readme\` (BENCH_SECONDS=$SECS): each daemon started with"
        echo "$(echo "$COUNTS" | sed 's/ / and with /') certificates that need nothing (ten-year certificates from gen_certs.py, CA"
        echo "unreachable), measured together once the first pass is over. Memory from"
        echo "/proc/PID/status (Pss and Private from smaps_rollup: the shared libraries' pages,"
        echo "mostly libcrypto and libcurl's dependencies, are RssFile); context switches summed over threads (voluntary + involuntary); syscalls"
        echo "are the lines \`strace -f\` wrote in the same window (attach excluded). Targets: RssAnon"
        echo "at most 2 MiB with one certificate and 4 MiB with 1,000; 0 wake-ups between scheduled actions."
        echo "Machine: $MACHINE."
        echo
        cat "$TABLE"
        echo
        echo "Against the targets: the daemons' own memory (RssAnon) is at most $(verdict 1 2048)"
        echo "and $(verdict "$max_n" 4096); the rest of VmRSS is RssFile,"
        echo "shared-library pages mapped from disk (libcrypto, libcurl and its TLS/HTTP2/LDAP/Kerberos"
        echo "dependencies): shared with every other process using them, reclaimable, and what Pss divides"
        echo "among their users. Wake-ups while idle: $(awk -F'|' 'NR > 2 {s += $11} END {print s + 0}' "$TABLE")"
        echo "context switches and $(awk -F'|' 'NR > 2 {s += $12} END {print s + 0}' "$TABLE") syscalls in total over the four daemons (the sleep is one"
        echo "poll() on a self-pipe until the next scheduled check, woken only by a signal or the metrics socket)."
        echo
    } >"$SECTION"
    python3 - "$README" "$SECTION" <<'PY'
import os, re, sys
path, section = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
m = re.search(r"^## Footprint\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
text = text[:m.start()] + section + text[m.end():] if m else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
    log "wrote the Footprint section of $README"
fi
