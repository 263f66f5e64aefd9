#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-acme notices through the installed certificate's CRL distribution point that it is
# revoked, and renews at once. The installed certificate comes from a throwaway CA
# (tests/support/crl_ca.py) whose leaf names http://127.0.0.1:<port>/ca.crl, served by python's
# http.server; the daemon runs against pebble with a 2-second check interval:
#   - an empty CRL: crl_checked revoked=false, no renewal;
#   - a stale CRL and a forged one (right name, other key), both listing the serial:
#     crl_unavailable, no renewal (fail open);
#   - a fresh CRL listing the serial: crl_checked revoked=true, renew_started reason=revoked,
#     and the certificate on disk is then pebble's;
#   - pebble's certificate has no distribution point: no CRL request and no crl_* line after.
# eca-timeout: 240
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

ca=$IT_TMP/crlca
pub=$IT_TMP/pub
mkdir -p "$pub"
crlport=$(free_port)
crlca() { python3 "$ECA_ROOT/tests/support/crl_ca.py" "$@"; }
crlca init "$ca" "http://127.0.0.1:$crlport/ca.crl" crl.test || die "crl_ca.py init"
crlca crl "$ca" "$pub/ca.crl" || die "crl_ca.py crl"
bg_start crlsrv python3 -m http.server --bind 127.0.0.1 --directory "$pub" "$crlport"
wait_for_port "$crlport" 20

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=crl.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
# The CRL changes every few seconds below: with the default crl_refresh_seconds (an hour) each
# 2-second pass still downloads it again (a download serves one pass at most).
export CHECK_INTERVAL_SECONDS=2 LOG_LEVEL=info
cp "$ca/fullchain.pem" "$CERT_PATH"
install -m 0600 "$ca/leaf.key" "$KEY_PATH"
old=$(cert_serial "$CERT_PATH")
dlog=$IT_TMP/daemon.log

# count PATTERN: lines of the daemon's log with PATTERN (fixed string).
count() { grep -cF -- "$1" "$dlog" || true; }
# wait_count PATTERN N SECS: until the log has more than N lines with PATTERN.
wait_count() {
    local i
    for i in $(seq $(($3 * 10))); do
        [ "$(count "$1")" -gt "$2" ] && return 0
        sleep 0.1
    done
    die "no new '$1' in the log after $3 s"
}
# A whole pass after the CRL changed: the next cert_checked after one more than now.
next_passes() { local n; n=$(count '"event":"cert_checked"'); wait_count '"event":"cert_checked"' $((n + 1)) 20; }
no_renewal() {
    [ "$(count '"event":"renew_started"')" = 0 ] || die "$1: a renewal started"
    [ "$(cert_serial "$CERT_PATH")" = "$old" ] || die "$1: the certificate was replaced"
}

bg_start daemon "$ECA_ACME"
log "1. an empty CRL: checked, not revoked, no renewal"
wait_count '"event":"crl_checked"' 0 30
grep -F '"event":"crl_checked"' "$dlog" | head -n 1 | grep -qF '"revoked":false' ||
    die "first crl_checked: $(grep -F crl_checked "$dlog" | head -n 1)"
grep -F '"event":"crl_checked"' "$dlog" | head -n 1 | grep -qF "\"serial\":\"$old\"" ||
    die "crl_checked does not name the serial $old"
grep -qF '"decision":"none"' "$dlog" || die "no cert_checked decision=none"
[ -s "$d/state/crl.test.crl" ] || die "no kept copy of the CRL in STATE_DIR"
no_renewal "empty CRL"

log "2. a stale CRL listing the serial: unavailable, logged, no renewal"
crlca crl "$ca" "$pub/ca.crl" --revoke --stale
n=$(count '"event":"crl_unavailable"')
wait_count '"event":"crl_unavailable"' "$n" 20
tail -n 50 "$dlog" | grep -F '"event":"crl_unavailable"' | tail -n 1 | grep -qF 'CRL: stale' ||
    die "stale: $(grep -F crl_unavailable "$dlog" | tail -n 1)"
next_passes
no_renewal "stale CRL"

log "3. a forged CRL (same issuer name, other key) listing the serial: unavailable, no renewal"
crlca crl "$ca" "$pub/ca.crl" --revoke --forged
n=$(count 'signature')
wait_count 'signature' "$n" 20
grep -F '"event":"crl_unavailable"' "$dlog" | tail -n 1 | grep -qF '"fail_closed":false' ||
    die "forged: $(grep -F crl_unavailable "$dlog" | tail -n 1)"
next_passes
no_renewal "forged CRL"

log "4. a fresh CRL listing the serial: revoked, renewed from pebble within a check interval"
crlca crl "$ca" "$pub/ca.crl" --revoke
wait_count '"revoked":true' 0 20
grep -F '"revoked":true' "$dlog" | head -n 1 | grep -qF '"event":"crl_checked"' ||
    die "revoked=true not on crl_checked"
wait_count '"event":"renew_started"' 0 10
grep -F '"event":"renew_started"' "$dlog" | head -n 1 | grep -qF '"reason":"revoked"' ||
    die "renew reason: $(grep -F renew_started "$dlog" | head -n 1)"
grep -qF '"decision":"revoked"' "$dlog" || die "no cert_checked decision=revoked"
for _ in $(seq 600); do
    [ "$(cert_serial "$CERT_PATH")" != "$old" ] && break
    sleep 0.1
done
new=$(cert_serial "$CERT_PATH")
[ "$new" != "$old" ] || die "still the revoked certificate after 60 s"
assert_installed "$CERT_PATH" "$KEY_PATH" crl.test
[ ! -e "$d/state/crl.test.revoked" ] || die "the revoked mark outlived the renewal"

log "5. pebble's certificate carries no distribution point: no CRL request, no crl_* lines"
reqs=$(grep -c 'GET /ca.crl' "$IT_TMP/crlsrv.log" || true)
crl_lines=$(count '"event":"crl_')
next_passes
next_passes
[ "$(count '"event":"crl_')" = "$crl_lines" ] || die "crl_* lines for a certificate without a DP"
[ "$(grep -c 'GET /ca.crl' "$IT_TMP/crlsrv.log" || true)" = "$reqs" ] ||
    die "the CRL was fetched for a certificate without a DP"
rc=0; timeout 20 "$ECA_ACME" status >"$IT_TMP/status.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "status after the renewal: exit $rc: $(cat "$IT_TMP/status.out")"
log "PASS"
