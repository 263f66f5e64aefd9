#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: EST enrollment against the demo EST CA on loopback. Per process (eca-est --once:
# first enrollment with the bootstrap token, and forced re-enrollment over mTLS) and inside a
# running agent (SIGUSR1 forces a renewal). Prints wall time, in-agent latency (from the log
# timestamps and the agent's own took_ms) and peak RSS. EC P-256 key generation included.
#
#   BENCH_N=20 tests/bench/bench_est_enroll.sh
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib_estca.sh"
. "$(dirname "$0")/../integration/lib_est.sh"
. "$(dirname "$0")/lib_bench.sh"
it_init
# Dozens of forced issuances of one certificate on purpose: no issuance budget.
export ISSUANCE_BUDGET=0
bench_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
N=${BENCH_N:-10}
EST_ONCE=(timeout 60 "$ECA_EST" --once)
# The agent's own timing (enrollment start to issued or installed, whichever carries it).
TOOK_EVENTS="cert_issued|cert_installed"
start_est_ca

log "eca-est --once, first enrollment (simpleenroll, HTTP Basic token): $N runs"
: >"$IT_TMP/enroll-all.log"
for i in $(seq "$N"); do
    est_env "$IT_TMP/enroll-$i"
    bench_run eca-est/simpleenroll/process "${EST_ONCE[@]}"
    grep -q '"op":"simpleenroll"' "$IT_TMP/last.log" || die "run $i: not a simpleenroll"
    cat "$IT_TMP/last.log" >>"$IT_TMP/enroll-all.log"
done

log "eca-est --once --force, re-enrollment (simplereenroll, mTLS): 1 warm-up + $N runs"
est_env "$IT_TMP/reenroll"
"${EST_ONCE[@]}" >"$IT_TMP/warmup.log" 2>&1 || die "warm-up enrollment failed"
: >"$IT_TMP/reenroll-all.log"
for i in $(seq "$N"); do
    bench_run eca-est/simplereenroll/process "${EST_ONCE[@]}" --force
    grep -q '"op":"simplereenroll"' "$IT_TMP/last.log" || die "run $i: not a simplereenroll"
    cat "$IT_TMP/last.log" >>"$IT_TMP/reenroll-all.log"
done

log "eca-est agent, $N re-enrollments forced with SIGUSR1"
est_env "$IT_TMP/agent"
export CHECK_INTERVAL_SECONDS=3600
"${EST_ONCE[@]}" >"$IT_TMP/agent-warmup.log" 2>&1 || die "agent warm-up enrollment failed"
bg_start agent "$ECA_EST"
AGENT_PID=$BG_PID
installed() { grep -c '"event":"cert_installed"' "$IT_TMP/agent.log" || true; }
for _ in $(seq 100); do
    grep -q '"event":"cert_checked"' "$IT_TMP/agent.log" && break
    sleep 0.1
done
grep -q '"event":"cert_checked"' "$IT_TMP/agent.log" || die "agent did not start"
for i in $(seq "$N"); do
    want=$(($(installed) + 1))
    kill -USR1 "$AGENT_PID"
    for _ in $(seq 200); do
        [ "$(installed)" -ge "$want" ] && break
        sleep 0.05
    done
    [ "$(installed)" -ge "$want" ] || die "renewal $i not installed within 10 s"
    sleep 0.2 # let the agent go back to sleep: one renewal at a time
done
AGENT_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
bg_stop agent

echo "==== EST enrollment, demo EST CA $EST_BASE"
bench_machine
bench_report eca-est/simpleenroll/process
bench_log_latency "$IT_TMP/enroll-all.log" renew_started cert_installed |
    bench_stats "  in-process renew->installed"
bench_log_field "$IT_TMP/enroll-all.log" "$TOOK_EVENTS" took_ms |
    bench_stats "  in-process took_ms"
bench_report eca-est/simplereenroll/process
bench_log_latency "$IT_TMP/reenroll-all.log" renew_started cert_installed |
    bench_stats "  in-process renew->installed"
bench_log_field "$IT_TMP/reenroll-all.log" "$TOOK_EVENTS" took_ms |
    bench_stats "  in-process took_ms"
bench_log_latency "$IT_TMP/agent.log" renew_started cert_installed |
    bench_stats "agent (USR1) renew->installed"
bench_log_field "$IT_TMP/agent.log" "$TOOK_EVENTS" took_ms |
    bench_stats "agent (USR1) took_ms"
echo "agent peak RSS after $N renewals: ${AGENT_RSS} kB"
