#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-est against the demo EST CA: enroll with the token, re-enroll over mTLS, revoke and
# enroll afresh, .pfx in both profiles, enroll with a bootstrap certificate, a P-521 key,
# latency.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca
TOKEN=$(cat "$EST_TOKEN_FILE")
D=$IT_TMP/a
est_env "$D"
export CRL_ENABLED=true PFX_PATH="$D/out/cert.pfx" PFX_PASSWORD_FILE="$IT_TMP/pfx-pass"
printf 'pfx-Secret-42\n' >"$PFX_PASSWORD_FILE"
chmod 600 "$PFX_PASSWORD_FILE"

log "1. first enrollment with the bootstrap token"
run_est enroll --once || die "enroll failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
last_event enroll cert_issued | grep -q '"op":"simpleenroll"' || die "not a simpleenroll"
s1=$(cert_serial "$CERT_PATH")
subj1=$(openssl x509 -in "$CERT_PATH" -noout -subject)
openssl x509 -in "$CERT_PATH" -noout -ext subjectAltName | grep -q 'DNS:edge-client.test' ||
    die "SAN missing"
cmp -s "$CA_CERTS_PATH" "$EST_CA_DIR/ca-chain.pem" ||
    openssl verify -CAfile "$CA_CERTS_PATH" "$EST_CA_DIR/issuing-ca.pem" >/dev/null ||
    die "CA bundle output is not the CA chain"
openssl pkcs12 -info -nokeys -passin "file:$PFX_PASSWORD_FILE" -in "$PFX_PATH" \
    >"$IT_TMP/pfx-modern.txt" 2>&1 || die "modern .pfx unreadable"
grep -q 'MAC: sha256' "$IT_TMP/pfx-modern.txt" || die "modern .pfx MAC is not SHA-256"
grep -q 'AES-256-CBC' "$IT_TMP/pfx-modern.txt" || die "modern .pfx is not AES-256-CBC"

log "2. nothing to do on the next pass"
run_est idle --once || die "idle pass failed"
last_event idle cert_checked | grep -q '"decision":"none"' || die "expected no renewal"

log "3. forced renewal: simplereenroll over mTLS, legacy .pfx"
export PFX_PROFILE=legacy
run_est reenroll --once --force || die "re-enroll failed"
last_event reenroll cert_issued | grep -q '"op":"simplereenroll"' || die "not a re-enroll"
s2=$(cert_serial "$CERT_PATH")
[ "$s1" != "$s2" ] || die "re-enroll kept serial $s1"
[ "$subj1" = "$(openssl x509 -in "$CERT_PATH" -noout -subject)" ] || die "subject changed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
[ -e "$CERT_PATH.prev" ] || log "note: no $CERT_PATH.prev kept"
openssl pkcs12 -info -nokeys -passin "file:$PFX_PASSWORD_FILE" -in "$PFX_PATH" \
    >"$IT_TMP/pfx-legacy.txt" 2>&1 || die "legacy .pfx unreadable"
grep -q 'MAC: sha1' "$IT_TMP/pfx-legacy.txt" || die "legacy .pfx MAC is not SHA-1"
grep -q 'pbeWithSHA1And3-KeyTripleDES-CBC' "$IT_TMP/pfx-legacy.txt" || die "legacy .pfx not 3DES"
unset PFX_PROFILE

log "4. revoked: a pass sees it in the CRL (the CA unreachable: kept), then enrolls afresh"
est_ca revoke --dir "$EST_CA_DIR" --serial "$s2" 2>>"$IT_TMP/est-ca-init.log"
CA_URL="https://127.0.0.1:$(free_port)/.well-known/est" run_est revoked-down --once &&
    die "a pass with the CA unreachable succeeded"
last_event revoked-down crl_checked | grep -q '"revoked":true' || die "revocation not seen"
# `status` reads files only: the CRL's word is remembered (STATE_DIR/<name>.revoked).
rc=0
"$ECA_EST" status >"$IT_TMP/status-revoked.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "status exited $rc with the revoked certificate installed, want 1"
grep -q 'revoked: *yes' "$IT_TMP/status-revoked.txt" ||
    die "status does not say revoked: $(cat "$IT_TMP/status-revoked.txt")"
run_est revoked --once || die "pass after revocation failed"
last_event revoked cert_checked | grep -q '"decision":"revoked"' || die "revocation forgotten"
last_event revoked cert_issued | grep -q '"op":"simpleenroll"' || die "not a fresh enroll"
s3=$(cert_serial "$CERT_PATH")
[ "$s3" != "$s2" ] || die "still the revoked serial"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
"$ECA_EST" status --json >"$IT_TMP/status-renewed.json" 2>&1 ||
    die "status unhealthy after the replacement: $(cat "$IT_TMP/status-renewed.json")"
grep -q '"revoked":false' "$IT_TMP/status-renewed.json" || die "the replacement shown revoked"

log "5. enrollment with the bootstrap certificate (no token)"
D2=$IT_TMP/b
est_env "$D2"
unset BOOTSTRAP_TOKEN_FILE EST_USERNAME
export BOOTSTRAP_CERT_PATH="$EST_CA_DIR/bootstrap.pem" BOOTSTRAP_KEY_PATH="$EST_CA_DIR/bootstrap.key"
run_est bootcert --once || die "enroll with the bootstrap certificate failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
grep -q 'auth=cert:bootstrap' "$IT_TMP/est-ca.log" || die "server did not see the bootstrap cert"

log "6. KEY_TYPE=ec-p521: a P-521 key, a CSR signed with SHA-512, a certificate for that key"
# No /csrattrs here: the default one asks for ecdsa-with-SHA256, which would set the digest.
est_mode csrattrs-empty
est_env "$IT_TMP/p521"
export KEY_TYPE=ec-p521
run_est p521 --once || die "enrollment with a P-521 key failed"
unset KEY_TYPE
est_mode ""
last_event p521 csr_built | grep -q '"key_type":"ec-p521".*"digest":"SHA512"' ||
    die "CSR not P-521/SHA-512: $(last_event p521 csr_built)"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
openssl x509 -in "$CERT_PATH" -noout -text | grep -q 'NIST CURVE: P-521' ||
    die "issued certificate's key is not P-521"
openssl pkey -in "$KEY_PATH" -noout -text | grep -q 'P-521' || die "key is not P-521"
grep '"POST /.well-known/est/simpleenroll" 200' "$IT_TMP/est-ca.log" | tail -n 1 |
    grep -q 'csr_key=ec-secp521r1 csr_sig=sha512' || die "the server did not see P-521/SHA-512"

log "7. latency: 10 forced enrollments on loopback"
est_env "$IT_TMP/c"
start=$(date +%s%N)
for i in $(seq 10); do run_est latency --once --force || die "latency run $i failed"; done
total_ms=$(( ($(date +%s%N) - start) / 1000000 ))
took=$(grep -o '"took_ms":[0-9]*' "$IT_TMP/latency.log" | cut -d: -f2 | sort -n | tr '\n' ' ')
log "latency: 10 x (process start + pass) = ${total_ms} ms; in-agent took_ms: $took"

assert_absent "$TOKEN"
assert_absent "pfx-Secret-42"
log "PASS"
