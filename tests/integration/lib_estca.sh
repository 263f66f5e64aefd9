#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers to run the demo EST CA (target-demo/est-ca/est_ca.py) inside a scenario; served
# through est_ca_faults.py, which adds the fault modes only tests need.
#
# Usage:  . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/lib_estca.sh"; it_init
#         start_est_ca [--mode MODES] [--validity-seconds N] [other serve options]
# The server is started with lib.sh's bg_start, so the scenario's exit trap kills it by PID.

EST_CA_PY="$ECA_ROOT/target-demo/est-ca/est_ca.py"
# est_ca.py plus the fault modes only tests need (fail-500, garbage, slow, ...): same CLI.
EST_CA_TEST_PY="$ECA_ROOT/tests/integration/est_ca_faults.py"
EST_PYTHON=${PYTHON:-python3}

# est_ca SUBCOMMAND ARGS...: run est_ca.py (init, revoke, list) against $EST_CA_DIR's CA.
est_ca() {
    timeout 60 "$EST_PYTHON" "$EST_CA_PY" "$@"
}

# start_est_ca [serve options...]: initialise the CA in $EST_CA_DIR (default $IT_TMP/est-ca,
# once; EST_VALIDITY seconds, default 600) and serve it on free ports. Sets:
#   EST_CA_DIR      the CA's state directory (root-ca.pem, bootstrap.pem, tokens, ...)
#   EST_PORT        HTTPS port; EST_BASE=https://127.0.0.1:PORT (what pki --url takes)
#   EST_URL         $EST_BASE/.well-known/est (append /cacerts, /simpleenroll, ...)
#   EST_CRL_PORT, EST_CRL_URL   the plain-HTTP CRL listener and the URL put in certificates
#   EST_ROOT        the trust anchor for the server's TLS and for issued certificates
#   EST_USER, EST_TOKEN_FILE    HTTP Basic user and the file holding its token
#   EST_CA_PID      the server's PID
start_est_ca() {
    EST_CA_DIR=${EST_CA_DIR:-$IT_TMP/est-ca}
    if [ ! -e "$EST_CA_DIR/root-ca.pem" ]; then
        est_ca init --dir "$EST_CA_DIR" --validity-seconds "${EST_VALIDITY:-600}" \
            2>>"$IT_TMP/est-ca-init.log" || die "est_ca.py init failed (see est-ca-init.log)"
    fi
    EST_PORT=$(free_port)
    EST_CRL_PORT=$(free_port)
    rm -f "$EST_CA_DIR/serve.json"
    bg_start est-ca "$EST_PYTHON" -B "$EST_CA_TEST_PY" serve --dir "$EST_CA_DIR" \
        --listen "127.0.0.1:$EST_PORT" --crl-listen "127.0.0.1:$EST_CRL_PORT" "$@"
    EST_CA_PID=$BG_PID
    # serve.json is written once both sockets are bound
    local i
    for i in $(seq 100); do
        [ -s "$EST_CA_DIR/serve.json" ] && break
        kill -0 "$EST_CA_PID" 2>/dev/null || die "est_ca.py serve exited (see est-ca.log)"
        sleep 0.1
    done
    [ -s "$EST_CA_DIR/serve.json" ] || die "est_ca.py serve did not start within 10 s"
    EST_BASE="https://127.0.0.1:$EST_PORT"
    EST_URL="$EST_BASE/.well-known/est"
    EST_CRL_URL="http://127.0.0.1:$EST_CRL_PORT/crl.der"
    EST_ROOT="$EST_CA_DIR/root-ca.pem"
    EST_USER=$(cut -d: -f1 "$EST_CA_DIR/tokens" | head -n 1)
    EST_TOKEN_FILE="$EST_CA_DIR/bootstrap-token"
}

# stop_est_ca: stop the server started by start_est_ca (the CA's files stay).
stop_est_ca() {
    bg_stop est-ca
}

# est_mode MODES: switch the running server's modes (comma list; "" back to --mode).
est_mode() {
    printf '%s\n' "$1" >"$EST_CA_DIR/mode"
}

# est_handshakes: TLS handshakes the running server has completed (from its stats.json).
est_handshakes() {
    if [ -s "$EST_CA_DIR/stats.json" ]; then
        "$EST_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tls_handshakes"])' \
            "$EST_CA_DIR/stats.json"
    else
        echo 0
    fi
}
