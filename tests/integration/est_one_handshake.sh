#!/bin/bash
# SPDX-License-Identifier: MIT
# One TLS handshake per enrollment, counted by the demo EST CA: /cacerts, /csrattrs and the
# POST share a connection for a first enrollment (HTTP Basic, and a bootstrap certificate) and
# for a re-enrollment, which presents the installed certificate from the first handshake.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca

# handshakes_for NAME ARGS...: run eca-est and print how many handshakes the CA counted.
handshakes_for() {
    local name=$1 before
    shift
    before=$(est_handshakes)
    run_est "$name" "$@" || die "$name: eca-est $* failed"
    echo $(($(est_handshakes) - before))
}

log "1. first enrollment with HTTP Basic: one handshake"
est_env "$IT_TMP/a"
n=$(handshakes_for a --once)
[ "$n" = 1 ] || die "first enrollment took $n TLS handshakes, want 1"
est_assert_installed "$CERT_PATH" "$KEY_PATH"

log "2. re-enrollment: one handshake, the client certificate presented in it"
n=$(handshakes_for a --once --force)
[ "$n" = 1 ] || die "re-enrollment took $n TLS handshakes, want 1"
last_event a cert_issued | grep -q '"op":"simplereenroll"' || die "did not re-enroll"
grep 'TLS handshake' "$IT_TMP/est-ca.log" | tail -n 1 | grep -q 'client_cert=yes' ||
    die "the re-enrollment's handshake carried no client certificate"
conn=$(grep 'TLS handshake' "$IT_TMP/est-ca.log" | tail -n 1 | sed 's/.*conn=\([0-9]*\).*/\1/')
for op in cacerts csrattrs simplereenroll; do
    grep -q "/$op\" 200 .*conn=$conn\$" "$IT_TMP/est-ca.log" ||
        die "$op did not go over connection $conn"
done

log "3. first enrollment with a bootstrap certificate: one handshake"
est_env "$IT_TMP/b"
unset BOOTSTRAP_TOKEN_FILE EST_USERNAME
export BOOTSTRAP_CERT_PATH="$EST_CA_DIR/bootstrap.pem" BOOTSTRAP_KEY_PATH="$EST_CA_DIR/bootstrap.key"
n=$(handshakes_for b --once)
[ "$n" = 1 ] || die "bootstrap-certificate enrollment took $n TLS handshakes, want 1"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
grep -q 'auth=cert:bootstrap' "$IT_TMP/est-ca.log" || die "bootstrap certificate not used"
log "PASS"
