#!/bin/bash
# SPDX-License-Identifier: MIT
# libest's default /csrattrs (bare OIDs macAddress, emailAddress, secp384r1, sha384, then a
# NUL): eca-est sends a P-384 CSR signed with SHA-384 (the demo CA refuses anything else in
# this mode), names macAddress and emailAddress as not honoured, and the certificate holds a
# P-384 key; a configured key_type still wins.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca --mode csrattrs-libest

log "1. the test double sends libest's bytes: base64 then a NUL"
curl -sS --cacert "$EST_ROOT" "$EST_URL/csrattrs" -o "$IT_TMP/csrattrs.bin"
[ "$(tail -c 1 "$IT_TMP/csrattrs.bin" | od -An -tx1 | tr -d ' ')" = 00 ] || die "no NUL at the end"
head -c -1 "$IT_TMP/csrattrs.bin" | base64 -d | openssl asn1parse -inform DER >"$IT_TMP/asn1.txt"
for want in secp384r1 sha384 emailAddress 1.3.6.1.1.1.1.22; do
    grep -q -e "$want" "$IT_TMP/asn1.txt" || die "csrattrs lacks $want"
done

log "2. enrollment: P-384 key, SHA-384 CSR, the rest named"
est_env "$IT_TMP/a"
run_est a --once || die "enrollment with libest's csrattrs failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
openssl x509 -in "$CERT_PATH" -noout -text | grep -q 'NIST CURVE: P-384' ||
    die "issued certificate's key is not P-384"
openssl pkey -in "$KEY_PATH" -noout -text | grep -q 'secp384r1\|P-384' || die "key is not P-384"
grep '"POST /.well-known/est/simpleenroll" 200' "$IT_TMP/est-ca.log" | tail -n 1 |
    grep -q 'csr_key=ec-secp384r1 csr_sig=sha384' || die "the server did not see P-384/SHA-384"
line=$(last_event a csrattrs)
echo "$line" | grep -q 'macAddress: not honoured' || die "macAddress not named: $line"
echo "$line" | grep -q 'emailAddress: not honoured' || die "emailAddress not named: $line"
echo "$line" | grep -q '"challenge_password":false' || die "challenge_password not shown: $line"
last_event a csr_built | grep -q '"digest":"SHA384"' || die "CSR digest not SHA384"

log "3. an operator's key_type wins: the demo CA (strict here) refuses, the error shows why"
est_env "$IT_TMP/b"
export KEY_TYPE=ec-p256
rc=0
run_est b --once || rc=$?
[ "$rc" = 1 ] || die "exit $rc, want 1 (the strict CA refuses P-256)"
last_event b renew_failed | grep -q 'P-384 signed with SHA-384' ||
    die "server text missing: $(last_event b renew_failed)"
unset KEY_TYPE
log "PASS"
