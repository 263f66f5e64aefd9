#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-est against the demo EST CA's awkward answers: a wrong token, 202 then success, a
# leaf-only answer in CRLF base64, Basic sent only after the 401 challenge.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca
TOKEN=$(cat "$EST_TOKEN_FILE")
CANARY="canary-Wr0ng-token-$$"

log "1. wrong token: exit 1, an error naming the fix, nothing written"
est_env "$IT_TMP/w"
printf '%s\n' "$CANARY" >"$IT_TMP/wrong-token"
chmod 600 "$IT_TMP/wrong-token"
export BOOTSTRAP_TOKEN_FILE="$IT_TMP/wrong-token"
rc=0
run_est wrong --once || rc=$?
[ "$rc" = 1 ] || die "wrong token: exit $rc, want 1"
last_event wrong renew_failed | grep -q 'check EST_USERNAME/BOOTSTRAP_TOKEN' ||
    die "the error does not name the fix"
last_event wrong renew_failed | grep -q '"rc":"EAUTH"' || die "rc is not EAUTH"
[ -z "$(ls -A "$IT_TMP/w/out")" ] || die "files were written: $(ls "$IT_TMP/w/out")"

log "2. 202 Accepted + Retry-After, then the certificate"
est_env "$IT_TMP/p"
est_mode approve-once
run_est pending --once || die "pending enrollment failed"
last_event pending enroll_pending | grep -q '"retry_after":2' || die "no 202 seen"
est_assert_installed "$CERT_PATH" "$KEY_PATH"

log "3. leaf-only answer in 76-column CRLF base64: chain completed from /cacerts"
est_env "$IT_TMP/l"
est_mode leaf-only-with-crlf,no-cte
run_est leafonly --once || die "leaf-only enrollment failed"
last_event leafonly cert_issued | grep -q '"chain":2' || die "chain not completed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"

log "4. Basic only after the 401 challenge"
est_env "$IT_TMP/c"
export EST_BASIC_AUTH=challenge
est_mode b64-lf
run_est challenge --once || die "challenge-mode enrollment failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
grep -c '"POST /.well-known/est/simpleenroll" 401' "$IT_TMP/est-ca.log" | grep -qv '^0$' ||
    die "no 401 challenge seen by the server"
unset EST_BASIC_AUTH

log "5. a server that answers garbage: exit 1, EPARSE, old certificate kept"
before=$(cert_serial "$CERT_PATH")
est_mode garbage
rc=0
run_est garbage --once --force || rc=$?
[ "$rc" = 1 ] || die "garbage: exit $rc, want 1"
[ "$(cert_serial "$CERT_PATH")" = "$before" ] || die "certificate replaced after a failure"
est_mode ""

assert_absent "$TOKEN"
assert_absent "$CANARY"
log "PASS"
