#!/bin/bash
# SPDX-License-Identifier: MIT
# Proves the demo EST CA speaks RFC 7030 to an independent client (strongSwan's pki --estca,
# --est with HTTP Basic, re-enrollment over mTLS, 202 polling) and refuses what it must (curl).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
it_init

command -v pki >/dev/null || die "strongSwan pki missing (Debian package strongswan-pki)"
command -v curl >/dev/null || die "curl missing"

EST_VALIDITY=300 start_est_ca
log "demo EST CA on $EST_BASE (pid $EST_CA_PID), CRL at $EST_CRL_URL"
pki_quiet() { grep -v -E "^plugin '|^TPM 2.0" "$1" || true; }
# strongSwan handles EC P-256 only with its openssl plugin (libstrongswan-standard-plugins)
pki --print --in "$EST_ROOT" >"$IT_TMP/pki-print.log" 2>&1 ||
    die "pki cannot parse an EC P-256 certificate: install libstrongswan-standard-plugins"

W="$IT_TMP/sw"
mkdir -p "$W"
cd "$W"
TOKEN=$(cat "$EST_TOKEN_FILE")
ISSUING="$EST_CA_DIR/issuing-ca.pem"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }
# the serial in lower-case hex without leading zeros, as the server logs it and the CRL shows it
serial_of() { cert_serial "$1" | sed 's/^0*//'; }

# --- RFC 7030 section 4.1: /cacerts, trust checked against the explicit TA
timeout 30 pki --estca --url "$EST_BASE" --cacert "$EST_ROOT" --caout ca.crt --outform pem \
    >estca.out 2>estca.err || { pki_quiet estca.err; die "pki --estca failed"; }
[ "$(fp ca.crt)" = "$(fp "$EST_ROOT")" ] || die "cacerts root differs from root-ca.pem"
[ "$(fp ca-1.crt)" = "$(fp "$ISSUING")" ] || die "cacerts sub CA differs from issuing-ca.pem"
log "ok: pki --estca fetched root and issuing CA"

# --- RFC 7030 section 4.2.1: simpleenroll with HTTP Basic
pki --gen --type ecdsa --size 256 --outform pem >k1.pem 2>/dev/null
pki --req --in k1.pem --type priv --dn "CN=sw-device,O=ECA Demo" --san sw-device.example \
    --outform der >r1.der 2>/dev/null
timeout 30 pki --est --url "$EST_BASE" --in r1.der --cacert ca.crt --cacert ca-1.crt \
    --userpass "$EST_USER:$TOKEN" --outform pem >c1.pem 2>est1.err ||
    { pki_quiet est1.err; die "pki --est (Basic) failed"; }
grep -q "Issued certificate is trusted" est1.err || { pki_quiet est1.err; die "pki distrusts c1"; }
openssl verify -CAfile "$EST_ROOT" -untrusted "$ISSUING" c1.pem >/dev/null ||
    die "c1 does not verify against the root"
subj=$(openssl x509 -in c1.pem -noout -subject -nameopt RFC2253)
[ "$subj" = "subject=O=ECA Demo,CN=sw-device" ] || die "c1 subject is '$subj'"
ext=$(openssl x509 -in c1.pem -noout -ext subjectAltName,extendedKeyUsage,keyUsage,crlDistributionPoints)
for want in "DNS:sw-device.example" "TLS Web Client Authentication" "Digital Signature" \
    "URI:$EST_CRL_URL"; do
    grep -qF -e "$want" <<<"$ext" || die "c1 lacks '$want' in: $ext"
done
start=$(date -d "$(openssl x509 -in c1.pem -noout -startdate | cut -d= -f2)" +%s)
end=$(date -d "$(openssl x509 -in c1.pem -noout -enddate | cut -d= -f2)" +%s)
[ $((end - start)) -eq 300 ] || die "c1 lifetime is $((end - start)) s, want 300"
s1=$(serial_of c1.pem)
log "ok: pki --est enrolled c1 (serial $s1) with Basic auth"

# --- RFC 7030 section 4.2.2: simplereenroll authenticated by c1 over mTLS
pki --gen --type ecdsa --size 256 --outform pem >k2.pem 2>/dev/null
pki --req --in k2.pem --type priv --dn "CN=sw-device,O=ECA Demo" --san sw-device.example \
    --outform der >r2.der 2>/dev/null
timeout 30 pki --est --url "$EST_BASE" --in r2.der --cacert ca.crt --cacert ca-1.crt \
    --cert c1.pem --key k1.pem --outform pem >c2.pem 2>est2.err ||
    { pki_quiet est2.err; die "pki --est re-enrollment failed"; }
openssl verify -CAfile "$EST_ROOT" -untrusted "$ISSUING" c2.pem >/dev/null ||
    die "c2 does not verify against the root"
s2=$(serial_of c2.pem)
[ "$s2" != "$s1" ] || die "re-enrollment returned the old serial"
[ "$(openssl x509 -in c2.pem -noout -subject -nameopt RFC2253)" = "$subj" ] ||
    die "c2 subject differs from c1"
[ "$(openssl x509 -in c2.pem -noout -pubkey)" = "$(openssl pkey -in k2.pem -pubout)" ] ||
    die "c2 is not for the new key"
grep -q "\"POST /.well-known/est/simplereenroll\" 200 auth=cert:ours:$s1 " "$IT_TMP/est-ca.log" ||
    die "server log does not show the mTLS re-enrollment by $s1"
log "ok: pki --est re-enrolled over mTLS: c2 (serial $s2)"

# --- RFC 7030 section 4.2.3: 202 + Retry-After, the client polls
est_mode approve-once
pki --gen --type ecdsa --size 256 --outform pem >k3.pem 2>/dev/null
pki --req --in k3.pem --type priv --dn "CN=sw-device-3,O=ECA Demo" --outform der >r3.der 2>/dev/null
timeout 40 pki --est --url "$EST_BASE" --in r3.der --cacert ca.crt --cacert ca-1.crt \
    --userpass "$EST_USER:$TOKEN" --interval 1 --maxpolltime 20 --outform pem >c3.pem 2>est3.err ||
    { pki_quiet est3.err; die "pki --est with approve-once failed"; }
grep -q "EST request pending" est3.err || die "pki saw no 202"
openssl verify -CAfile "$EST_ROOT" -untrusted "$ISSUING" c3.pem >/dev/null || die "c3 bad"
est_mode ""
log "ok: 202 Retry-After honoured by pki, then issued"

# --- negative checks with curl
printf '%s' "$(openssl req -in r1.der -inform DER -outform DER | base64 -w0)" >r1.b64
post() { # post OP ARGS... -> prints the HTTP status; headers in hdr.txt
    curl -sS --max-time 20 --cacert "$EST_ROOT" -o body.txt -D hdr.txt -w '%{http_code}' \
        -H 'Content-Type: application/pkcs10' --data-binary @r1.b64 "${@:2}" "$EST_URL/$1"
}
code=$(post simpleenroll -u "$EST_USER:wrong-token")
[ "$code" = 401 ] || die "wrong token: HTTP $code, want 401"
grep -qi '^WWW-Authenticate: Basic realm="estdemo"' hdr.txt || die "401 without Basic challenge"
grep -q "wrong-token" "$IT_TMP/est-ca.log" && die "server logged a token"
grep -qF -e "$TOKEN" "$IT_TMP/est-ca.log" && die "server logged the real token"
code=$(post simplereenroll)
[ "$code" = 403 ] || die "reenroll without client cert: HTTP $code, want 403"
code=$(post simplereenroll --cert "$EST_CA_DIR/bootstrap.pem" --key "$EST_CA_DIR/bootstrap.key")
[ "$code" = 403 ] || die "reenroll with the bootstrap cert: HTTP $code, want 403"
code=$(post simpleenroll -u "$EST_USER:$TOKEN" -H 'Transfer-Encoding: chunked')
[ "$code" = 411 ] || die "chunked enroll: HTTP $code, want 411"
code=$(post simpleenroll --cert "$EST_CA_DIR/bootstrap.pem" --key "$EST_CA_DIR/bootstrap.key")
[ "$code" = 200 ] || die "enroll with the bootstrap cert: HTTP $code, want 200"
log "ok: 401 + challenge, 403 for reenroll without our cert, 411 for chunked, bootstrap cert ok"

# --- revocation: CRL lists c2, and c2 can no longer re-enroll
est_ca revoke --dir "$EST_CA_DIR" --cert c2.pem 2>>"$IT_TMP/est-ca-init.log" || die "revoke failed"
curl -sS --max-time 10 -o crl.der "$EST_CRL_URL" || die "CRL fetch failed"
openssl crl -inform DER -in crl.der -noout -text | tr 'A-Z' 'a-z' | tr -d ' :' |
    sed 's/serialnumber0*/serialnumber/' | grep -q "serialnumber${s2}\$" || die "CRL does not list c2's serial $s2"
openssl crl -inform DER -in crl.der -noout -verify -CAfile "$ISSUING" 2>/dev/null ||
    die "CRL signature does not verify with the issuing CA"
code=$(post simplereenroll --cert c2.pem --key k2.pem)
[ "$code" = 403 ] || die "reenroll with revoked c2: HTTP $code, want 403"
log "ok: revoked c2 is on the CRL and refused"
log "PASS est_ca_strongswan"
