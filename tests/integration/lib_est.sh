#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers for eca-est scenarios (on top of lib.sh and lib_estca.sh): environment, runs, checks.

ECA_EST=${ECA_EST:-$BUILD/eca-est}

# est_env DIR: the environment contract for one certificate under DIR, pointed at est_ca.py.
est_env() {
    local d=$1
    export CA_URL="$EST_BASE" CA_BUNDLE="$EST_ROOT" STATE_DIR="$d/state"
    export SUBJECT_DN="CN=edge-client,O=Example" SANS="edge-client.test"
    export CERT_PATH="$d/out/cert.pem" KEY_PATH="$d/out/key.pem" CHAIN_PATH="$d/out/chain.pem"
    export CA_CERTS_PATH="$d/out/ca.pem" EST_USERNAME="$EST_USER"
    export BOOTSTRAP_TOKEN_FILE="$EST_TOKEN_FILE" LOG_LEVEL=debug
    unset BOOTSTRAP_TOKEN BOOTSTRAP_CERT_PATH BOOTSTRAP_KEY_PATH PFX_PATH PFX_PASSWORD_FILE \
        PFX_PROFILE CRL_ENABLED FORCE_RENEWAL
    mkdir -p "$d/out"
}

# run_est LOGNAME ARGS...: run eca-est bounded in time; output appended to $IT_TMP/LOGNAME.log.
run_est() {
    local name=$1
    shift
    timeout 120 "$ECA_EST" "$@" >>"$IT_TMP/$name.log" 2>&1
}

# est_assert_installed CERT KEY: chain verifies to the EST root, key matches, modes 600/644.
est_assert_installed() {
    local cert=$1 key=$2
    [ -s "$cert" ] || die "no certificate at $cert"
    split_fullchain "$cert" "$IT_TMP/leaf.pem" "$IT_TMP/issuers.pem"
    [ -s "$IT_TMP/issuers.pem" ] || die "$cert holds no issuer chain"
    openssl verify -CAfile "$EST_ROOT" -untrusted "$IT_TMP/issuers.pem" "$IT_TMP/leaf.pem" \
        >/dev/null || die "openssl verify failed for $cert"
    [ "$(openssl x509 -in "$IT_TMP/leaf.pem" -noout -pubkey)" = \
        "$(openssl pkey -in "$key" -pubout)" ] || die "key $key does not match $cert"
    [ "$(stat -c %a "$key")" = 600 ] || die "key mode $(stat -c %a "$key"), want 600"
    [ "$(stat -c %a "$cert")" = 644 ] || die "cert mode $(stat -c %a "$cert"), want 644"
}

# assert_absent SECRET: the value appears in no log of the scenario.
assert_absent() {
    if grep -rqF -- "$1" "$IT_TMP"/*.log; then die "a secret leaked into $(grep -lrF -- "$1" "$IT_TMP"/*.log)"; fi
}

# last_event LOG EVENT: the last JSON line of that event.
last_event() { grep "\"event\":\"$2\"" "$IT_TMP/$1.log" | tail -n 1; }
