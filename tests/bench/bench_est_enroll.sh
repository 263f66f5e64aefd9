#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: EST enrollment against the demo EST CA on loopback. Per process (eca-est --once:
# first enrollment with the bootstrap token, and forced re-enrollment over mTLS) and inside a
# running agent (SIGUSR1 forces a renewal). Side by side in the same run, interleaved with
# eca-est: strongSwan's pki doing the same work (EC P-256 key, CSR, simpleenroll with the token;
# simplereenroll over mTLS with its previous certificate). Prints wall time, in-agent latency
# (from the log timestamps and the agent's own took_ms), peak RSS and the ratio of medians.
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

command -v pki >/dev/null || die "strongSwan pki missing (scripts/deps.sh)"
# pki_enroll DIR [CERT KEY]: what a pki user runs for one enrollment: a key, a CSR, then
# simpleenroll with the token, or simplereenroll authenticated by CERT/KEY over mTLS.
PKI_TOKEN=$(cat "$EST_TOKEN_FILE")
pki_enroll() {
    local auth
    cd "$1" || return 1
    pki --gen --type ecdsa --size 256 --outform pem >k.pem &&
        pki --req --in k.pem --type priv --dn "CN=bench-pki,O=ECA Demo" --outform der >r.der ||
        return 1
    if [ -n "${2:-}" ]; then auth=(--cert "$2" --key "$3"); else auth=(--userpass "$EST_USER:$PKI_TOKEN"); fi
    pki --est --url "$EST_BASE" --in r.der --cacert "$EST_ROOT" \
        --cacert "$EST_CA_DIR/issuing-ca.pem" "${auth[@]}" --outform pem >c.pem
}
export -f pki_enroll
export PKI_TOKEN EST_USER EST_BASE EST_ROOT EST_CA_DIR

log "first enrollment (simpleenroll, HTTP Basic token), eca-est --once and pki interleaved: $N runs each"
: >"$IT_TMP/enroll-all.log"
for i in $(seq "$N"); do
    est_env "$IT_TMP/enroll-$i"
    bench_run eca-est/simpleenroll/process "${EST_ONCE[@]}"
    grep -q '"op":"simpleenroll"' "$IT_TMP/last.log" || die "run $i: not a simpleenroll"
    cat "$IT_TMP/last.log" >>"$IT_TMP/enroll-all.log"
    mkdir -p "$IT_TMP/pki-$i"
    bench_run pki/simpleenroll/process timeout 60 bash -c 'pki_enroll "$1"' _ "$IT_TMP/pki-$i"
    [ -s "$IT_TMP/pki-$i/c.pem" ] || die "pki run $i: no certificate"
done

log "re-enrollment (simplereenroll, mTLS), eca-est --once --force and pki interleaved: 1 warm-up + $N runs each"
est_env "$IT_TMP/reenroll"
"${EST_ONCE[@]}" >"$IT_TMP/warmup.log" 2>&1 || die "warm-up enrollment failed"
: >"$IT_TMP/reenroll-all.log"
mkdir -p "$IT_TMP/pki-re"
cp "$IT_TMP/pki-1/c.pem" "$IT_TMP/pki-re/prev.pem"
cp "$IT_TMP/pki-1/k.pem" "$IT_TMP/pki-re/prev.key"
for i in $(seq "$N"); do
    bench_run eca-est/simplereenroll/process "${EST_ONCE[@]}" --force
    grep -q '"op":"simplereenroll"' "$IT_TMP/last.log" || die "run $i: not a simplereenroll"
    cat "$IT_TMP/last.log" >>"$IT_TMP/reenroll-all.log"
    bench_run pki/simplereenroll/process timeout 60 bash -c 'pki_enroll "$1" "$2" "$3"' _ \
        "$IT_TMP/pki-re" "$IT_TMP/pki-re/prev.pem" "$IT_TMP/pki-re/prev.key"
    mv "$IT_TMP/pki-re/c.pem" "$IT_TMP/pki-re/prev.pem"
    mv "$IT_TMP/pki-re/k.pem" "$IT_TMP/pki-re/prev.key"
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
bench_report pki/simpleenroll/process
bench_ratio eca-est/simpleenroll/process pki/simpleenroll/process
bench_report eca-est/simplereenroll/process
bench_log_latency "$IT_TMP/reenroll-all.log" renew_started cert_installed |
    bench_stats "  in-process renew->installed"
bench_log_field "$IT_TMP/reenroll-all.log" "$TOOK_EVENTS" took_ms |
    bench_stats "  in-process took_ms"
bench_report pki/simplereenroll/process
bench_ratio eca-est/simplereenroll/process pki/simplereenroll/process
bench_log_latency "$IT_TMP/agent.log" renew_started cert_installed |
    bench_stats "agent (USR1) renew->installed"
bench_log_field "$IT_TMP/agent.log" "$TOOK_EVENTS" took_ms |
    bench_stats "agent (USR1) took_ms"
echo "agent peak RSS after $N renewals: ${AGENT_RSS} kB"
