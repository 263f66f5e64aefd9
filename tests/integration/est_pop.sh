#!/bin/bash
# SPDX-License-Identifier: MIT
# tls-unique proof-of-possession (RFC 7030 §3.5; libest -t) against the demo EST CA: with
# EST_POP=true one TLS 1.2 handshake carries /cacerts, /csrattrs and the bound CSR; without it,
# a /csrattrs asking for challengePassword over TLS 1.3 makes the agent reconnect at TLS 1.2;
# re-enrollment binds too; a server that wants PoP without saying so gets an error naming it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca --mode pop
TOKEN=$(cat "$EST_TOKEN_FILE")

log "1. EST_POP=true: one TLS 1.2 handshake, challengePassword = tls-unique"
est_env "$IT_TMP/conf"
export EST_POP=true
before=$(est_handshakes)
run_est conf --once || die "PoP enrollment failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
[ "$(($(est_handshakes) - before))" = 1 ] ||
    die "$(($(est_handshakes) - before)) TLS handshakes for one enrollment, want 1"
grep '"POST /.well-known/est/simpleenroll" 200' "$IT_TMP/est-ca.log" | tail -n 1 |
    grep -q 'pop=ok' || die "the server did not check a matching tls-unique"
last_event conf enroll_started | grep -q '"pop":true,"tls":"TLSv1.2"' ||
    die "enroll_started does not say pop over TLS 1.2: $(last_event conf enroll_started)"

log "2. re-enrollment with PoP: the current certificate over TLS 1.2, bound CSR"
before=$(est_handshakes)
run_est conf --once --force || die "PoP re-enrollment failed"
last_event conf cert_issued | grep -q '"op":"simplereenroll"' || die "did not re-enroll"
[ "$(($(est_handshakes) - before))" = 1 ] || die "re-enrollment took more than one handshake"
grep '"POST /.well-known/est/simplereenroll" 200' "$IT_TMP/est-ca.log" | tail -n 1 |
    grep -q 'auth=cert:ours.*pop=ok' || die "re-enrollment not bound"
unset EST_POP

log "3. PoP off, /csrattrs asks for challengePassword over TLS 1.3: reconnect at TLS 1.2"
est_env "$IT_TMP/auto"
before=$(est_handshakes)
run_est auto --once || die "PoP discovered from /csrattrs failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
last_event auto pop_tls12 | grep -q '"tls":"TLSv1.3"' || die "no TLS 1.2 reconnect logged"
last_event auto csrattrs | grep -q '"challenge_password":true' ||
    die "the csrattrs log line hides that challengePassword was asked for"
last_event auto csrattrs | grep -q 'challengePassword (tls-unique)' ||
    die "challengePassword not listed as applied"
[ "$(($(est_handshakes) - before))" = 2 ] || die "want 2 handshakes (1.3, then 1.2)"

log "4. a server that wants PoP without asking in /csrattrs: the error names PoP"
est_mode pop,csrattrs-empty
est_env "$IT_TMP/silent"
rc=0
run_est silent --once || rc=$?
[ "$rc" = 1 ] || die "exit $rc, want 1"
line=$(last_event silent renew_failed)
echo "$line" | grep -q 'server wants proof-of-possession' || die "error: $line"
echo "$line" | grep -q 'Proof of Possession required' || die "server text missing: $line"
echo "$line" | grep -q 'EST_POP=true' || die "fix not named: $line"
est_mode ""

assert_absent "$TOKEN"
log "PASS"
