#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-est against a server that challenges with HTTP Digest (RFC 7616; libest -h): MD5 and
# SHA-256 enroll with the bootstrap token; a wrong token's error names the Digest challenge and
# the server's text; curl --digest agrees with the server; the token never reaches a log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca --mode digest
TOKEN=$(cat "$EST_TOKEN_FILE")
CANARY="canary-D1gest-token-$$"

log "1. the test double itself: curl --digest gets through, Basic does not"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$EST_ROOT" -u "$EST_USER:$TOKEN" \
    --basic -H 'Content-Type: application/pkcs10' --data-binary 'x' "$EST_URL/simpleenroll")
[ "$code" = 401 ] || die "Basic answered $code in digest mode, want 401"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$EST_ROOT" -u "$EST_USER:$TOKEN" \
    --digest -H 'Content-Type: application/pkcs10' --data-binary 'x' "$EST_URL/simpleenroll")
[ "$code" = 400 ] || die "curl --digest answered $code, want 400 (authenticated, bad CSR)"

for alg in MD5 SHA-256; do
    mode=digest
    [ "$alg" = SHA-256 ] && mode=digest-sha256
    log "2. Digest $alg, Basic preemptive (the default): enrolls"
    est_mode "$mode"
    est_env "$IT_TMP/$mode"
    run_est "$mode" --once || die "Digest $alg enrollment failed"
    est_assert_installed "$CERT_PATH" "$KEY_PATH"
    grep -q "auth=digest:$EST_USER" "$IT_TMP/est-ca.log" || die "server saw no Digest login"
    grep "\"POST /.well-known/est/simpleenroll\" 401" "$IT_TMP/est-ca.log" | tail -n 1 |
        grep -q . || die "no Digest challenge seen by the server"
done

log "3. Digest with Basic only after a challenge: enrolls too"
est_mode digest
est_env "$IT_TMP/challenge"
export EST_BASIC_AUTH=challenge
run_est challenge --once || die "Digest enrollment with EST_BASIC_AUTH=challenge failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
unset EST_BASIC_AUTH

log "4. a wrong token: EAUTH naming the Digest challenge and the server's text"
est_env "$IT_TMP/wrong"
printf '%s\n' "$CANARY" >"$IT_TMP/wrong-token"
chmod 600 "$IT_TMP/wrong-token"
export BOOTSTRAP_TOKEN_FILE="$IT_TMP/wrong-token"
rc=0
run_est wrong --once || rc=$?
[ "$rc" = 1 ] || die "wrong token: exit $rc, want 1"
line=$(last_event wrong renew_failed)
echo "$line" | grep -q 'challenged for Digest' || die "error does not name Digest: $line"
echo "$line" | grep -q 'server says \\"credentials required or rejected' ||
    die "error does not show the server's text: $line"

assert_absent "$TOKEN"
assert_absent "$CANARY"
log "PASS"
