#!/bin/bash
# SPDX-License-Identifier: MIT
# Bounded passes against a slow CA (issue "Zero-touch under faults", item 3), --once runs
# against pebble behind tests/support/acme_ari_proxy.py, which injects the faults:
#   1. the order poll trickles a byte a second: the pass ends at its deadline
#      (pass_timeout_seconds = 5), not after curl's 60 s, and the open order is kept with its
#      key (STATE_DIR/<name>.order, .order.key 0600);
#   2. the next pass resumes that order; the CA answers "processing" with Retry-After: 3600:
#      the pass ends at once, cleanly (exit 0), saying what the server asked for;
#   3. the CA behaves again: the next pass resumes the SAME order (the proxy's log), finalizes
#      it with the kept key and installs; one newOrder in all;
#   4. a running daemon held the same way sleeps until the time the server asked (1800 s), not
#      its check interval nor a failure backoff.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

start_acme_proxy '{"trickle_order": true, "hold_order": 3600}'
plog=$PROXY_LOG

d=$IT_TMP/agent
agent_env "$d"
export CA_URL="$PROXY_DIR_URL"
export DOMAIN_NAME=slow.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
export PASS_TIMEOUT_SECONDS=5
st=$d/state

# 1. A trickling order poll: cut at the pass deadline.
t0=$(date +%s%N)
run_agent trickle --once && die "the trickled pass succeeded"
ms=$((($(date +%s%N) - t0) / 1000000))
log "trickled pass ended after $ms ms"
[ "$ms" -lt 9000 ] || die "the pass outlived its 5 s deadline: $ms ms"
grep -q '"fault": "trickle"' "$plog" || die "the proxy trickled nothing"
grep -q 'pass deadline\|timed out' "$IT_TMP/trickle.log" || die "no deadline in the error"
[ -f "$CERT_PATH" ] && die "something was installed"
[ -s "$st/slow.test.order" ] || die "the open order was not kept"
[ "$(stat -c %a "$st/slow.test.order.key")" = 600 ] || die "the kept key is not 0600"
order=$(head -1 "$st/slow.test.order")
log "open order: $order"
grep -qF "\"path\": \"/my-order/${order##*/my-order/}\"" "$plog" || die "kept URL $order not seen"
cp "$st/slow.test.order.key" "$IT_TMP/kept.key"

# 2. Resumed; the CA asks for an hour: a clean stop at once, the order still kept.
t0=$(date +%s%N)
run_agent hold --once || die "the held pass exited $? (should end cleanly)"
ms=$((($(date +%s%N) - t0) / 1000000))
log "held pass ended after $ms ms"
[ "$ms" -lt 4000 ] || die "the held pass waited: $ms ms"
grep -q '"fault": "hold"' "$plog" || die "the proxy held nothing"
grep -q '"event":"acme_order_resumed"' "$IT_TMP/hold.log" || die "pass 2 did not resume"
grep -q '"event":"order_pending".*server asked to retry in 3600 s' "$IT_TMP/hold.log" ||
    die "pass 2 does not say what the server asked for"
grep -q '"event":"renew_failed"' "$IT_TMP/hold.log" && die "the held pass counted as a failure"
[ "$(head -1 "$st/slow.test.order")" = "$order" ] || die "the kept order changed"

# 3. The CA behaves: the same order is resumed, finalized with the kept key, installed.
proxy_control '{}'
m=$(($(wc -l <"$plog") + 1))
run_agent resume --once || die "the resuming pass exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" slow.test
tail -n +"$m" "$plog" | grep -q "\"path\": \"/my-order/${order##*/my-order/}\"" ||
    die "pass 3 did not ask for the kept order"
grep -q '"event":"acme_order_resumed"' "$IT_TMP/resume.log" || die "pass 3 did not resume"
# A badNonce answer (400) to newOrder is retried by the client: not another order.
n=$(grep '"path": "/order-plz"' "$plog" | grep -vc '"status": 400' || true)
[ "$n" = 1 ] || die "$n newOrder requests (want 1: the order is resumed, not replaced)"
pub() { openssl pkey -in "$1" -pubout 2>/dev/null; }
[ "$(pub "$KEY_PATH")" = "$(pub "$IT_TMP/kept.key")" ] || die "installed key is not the kept one"
[ -e "$st/slow.test.order" ] && die "the finished order is still kept"
[ -e "$st/slow.test.order.key" ] && die "the kept key outlived its order"

# 4. A running daemon (forced renewal) held for 1800 s: its next wake-up is then.
proxy_control '{"hold_order": 1800}'
CHECK_INTERVAL_SECONDS=86400 bg_start daemon "$ECA_ACME" --force
pid=$BG_PID
t0=$(date +%s)
for _ in $(seq 100); do grep -q '"event":"sleeping"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "daemon still running 5 s after TERM"
grep -q '"event":"order_pending".*server asked to retry in 1800 s' "$IT_TMP/daemon.log" ||
    die "the daemon was not held"
grep -q '"event":"renew_failed"' "$IT_TMP/daemon.log" && die "the held daemon pass failed"
until=$(grep -o '"event":"sleeping","until":"[^"]*"' "$IT_TMP/daemon.log" | head -1 | cut -d'"' -f8)
[ -n "$until" ] || die "no sleeping event"
wake=$(($(date -d "$until" +%s) - t0))
log "held daemon sleeps $wake s"
if [ "$wake" -lt 1790 ] || [ "$wake" -gt 1810 ]; then
    die "the daemon sleeps $wake s, not the 1800 asked"
fi
[ -s "$st/slow.test.order" ] || die "the held order was not kept"
log "PASS: trickle cut at the deadline, Retry-After 3600 ended the pass cleanly, the same order resumed and installed"
