#!/bin/bash
# SPDX-License-Identifier: MIT
# Short lifetimes with default settings: the resident eca-acme daemon, told only which profile to
# ask for, keeps a certificate of SHORT_LIFE seconds (45 by default) renewed, served by nginx.
# Debian's pebble 2.4 issues one validity for all and has no profiles: tests/support/
# acme_ari_proxy.py offers a "shortlived" profile with that validity and re-signs pebble's leaf
# for it (notAfter = notBefore + SHORT_LIFE - 1, as pebble 2.10 does) under a throwaway root.
#   - RENEWALS renewals (4) within a bounded time, every one decided by the threshold (never
#     "expired"), each installed certificate SHORT_LIFE long, chaining to the proxy's root, with
#     the names and the key;
#   - sampled twice a second throughout: the installed pair is in date and matches, and nginx
#     serves an in-date certificate;
#   - the CA is not hammered: one newOrder per renewal, renewalInfo at most once per certificate,
#     and the daemon looks no more often than the floor allows.
# 5 issuances also exceed the bare issuance budget (4): the lifetime's allowance lets them through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_rotate.sh"
it_init
snapshot_bins
SHORT_LIFE=${SHORT_LIFE:-45}
RENEWALS=${RENEWALS:-4}
command -v nginx >/dev/null || die "nginx not installed (scripts/deps.sh)"
start_pebble
start_acme_proxy "{\"ari\":\"future\",\"profiles\":{\"classic\":\"pebble's own\",
  \"shortlived\":{\"description\":\"$SHORT_LIFE seconds\",\"validity\":$SHORT_LIFE}}}"

NAME=short.test
d=$IT_TMP/agent
clean_agent_env
agent_env "$d"
# Default check interval, jitter, backoff and budget: only the profile is chosen.
export CA_URL="$PROXY_DIR_URL" DOMAIN_NAME=$NAME ACME_PROFILE=shortlived
export HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"

# The first certificate, before nginx can start on it.
run_agent first --once || die "first issuance exited $?"
PEBBLE_ROOT=$PROXY_ROOT assert_installed "$CERT_PATH" "$KEY_PATH" $NAME
life=$(($(leaf_not_after "$CERT_PATH") - $(leaf_not_before "$CERT_PATH")))
[ "$life" = $((SHORT_LIFE - 1)) ] || die "profile validity not applied: lifetime $life s"

N=$IT_TMP/nginx
HTTPS_PORT=$(free_port)
NGINX_CONF=$N/nginx.conf
start_tls_nginx "$NGINX_CONF" $NAME "$HTTPS_PORT" "$CERT_PATH" "$KEY_PATH" 64
s0=$(leaf_serial "$CERT_PATH")
wait_served "$HTTPS_PORT" $NAME "$s0" 10 || die "nginx does not serve the first certificate"

# Twice a second: the installed pair and the served certificate are in date. The install
# renames the key, then the certificate: a mismatch is only one when it is still there 0.2 s on.
SAMPLES=$IT_TMP/samples.txt
STOP_FILE=$IT_TMP/sampler.stop
sampler() {
    local file served
    while [ ! -e "$STOP_FILE" ]; do
        file=ok
        openssl x509 -in "$CERT_PATH" -noout -checkend 0 >/dev/null 2>&1 || file=EXPIRED
        if ! pair_matches "$CERT_PATH" "$KEY_PATH"; then
            sleep 0.2
            pair_matches "$CERT_PATH" "$KEY_PATH" || file=MISMATCH
        fi
        served=ok
        timeout 5 openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername $NAME \
            </dev/null 2>/dev/null | openssl x509 -noout -checkend 0 >/dev/null 2>&1 ||
            served=EXPIRED
        echo "$(now_ms) file=$file served=$served serial=$(leaf_serial "$CERT_PATH")" >>"$SAMPLES"
        sleep 0.5
    done
}
bg_start sampler sampler

m=$(($(wc -l <"$PROXY_LOG") + 1))
t0=$(date +%s)
RELOAD_COMMAND="nginx -q -s reload -c $NGINX_CONF -e $N/error.log" \
    VERIFY="127.0.0.1:$HTTPS_PORT" VERIFY_NAME=$NAME bg_start daemon "$ECA_ACME"
AGENT_PID=$BG_PID
# RENEWALS renewals come every ~2/3 of the lifetime: allow one lifetime more, bounded.
deadline=$((t0 + (RENEWALS + 1) * SHORT_LIFE * 2 / 3 + SHORT_LIFE))
prev=$s0
for i in $(seq "$RENEWALS"); do
    alive "$AGENT_PID" || die "the daemon died before renewal $i"
    new=$(wait_serial_change "$CERT_PATH" "$prev" $((deadline - $(date +%s)))) ||
        die "renewal $i: no new certificate by $((deadline - t0))s (renewed $((i - 1)) of $RENEWALS)"
    wait_log "$IT_TMP/daemon.log" "\"serial\":\"$new\"" 10 || true
    sleep 0.3 # the certificate file is renamed last: let the install finish
    PEBBLE_ROOT=$PROXY_ROOT assert_installed "$CERT_PATH" "$KEY_PATH" $NAME
    life=$(($(leaf_not_after "$CERT_PATH") - $(leaf_not_before "$CERT_PATH")))
    [ "$life" = $((SHORT_LIFE - 1)) ] || die "renewal $i: lifetime $life s"
    wait_served "$HTTPS_PORT" $NAME "$new" 10 || die "renewal $i: nginx does not serve $new"
    log "renewal $i: $new after $(($(date +%s) - t0)) s"
    prev=$new
done
elapsed=$(($(date +%s) - t0))
touch "$STOP_FILE"
bg_stop sampler
stop_pid "$AGENT_PID" 10 || die "the daemon did not stop on TERM"

dlog=$IT_TMP/daemon.log
# Renewals decided by the threshold, in time: never an expired certificate, never a failure.
started=$(count_log "$dlog" '"event":"renew_started"')
[ "$started" -ge "$RENEWALS" ] || die "$started renew_started events, want $RENEWALS"
[ "$(count_log "$dlog" '"reason":"threshold"')" = "$started" ] ||
    die "a renewal not decided by the threshold: $(grep '"event":"renew_started"' "$dlog")"
grep -q '"decision":"expired"' "$dlog" && die "the daemon found its certificate expired"
grep -q '"event":"renew_failed"' "$dlog" && die "a renewal failed: $(grep renew_failed "$dlog")"
grep -q '"event":"issuance_budget_exhausted"' "$dlog" && die "the issuance budget refused"
grep -q '"decision":"threshold"' "$dlog" || die "no cert_checked line shows the threshold decision"
# Every sample in date and matching.
[ -s "$SAMPLES" ] || die "no samples"
bad=$(grep -v 'file=ok served=ok' "$SAMPLES" || true)
[ -z "$bad" ] || die "an expired or mismatched certificate was installed or served: $bad"
log "$(wc -l <"$SAMPLES") samples in date over ${elapsed}s"
# Not hammered: one order per renewal (pebble refuses a fifth of the nonces: those newOrders
# are sent again); renewalInfo at most once per certificate; the looks (cert_checked) bounded
# by the 5 s floor plus the passes that renew.
orders=$(tail -n +"$m" "$PROXY_LOG" | grep '"path": "/order-plz"' | grep -c '"status": 201' ||
    true)
[ "$orders" = "$started" ] || die "$orders orders created for $started renewals"
ari=$(tail -n +"$m" "$PROXY_LOG" | grep -c '"path": "/draft-ietf-acme-ari-03/renewalInfo/' || true)
[ "$ari" -le $((started + 1)) ] || die "$ari renewalInfo requests for $((started + 1)) certificates"
checks=$(count_log "$dlog" '"event":"cert_checked"')
[ "$checks" -le $((elapsed / 5 + 3 * started + 2)) ] ||
    die "$checks looks in ${elapsed}s: more often than the 5 s floor"
log "$started renewals in ${elapsed}s, $checks looks, $orders orders, $ari renewalInfo requests"
log "PASS"
