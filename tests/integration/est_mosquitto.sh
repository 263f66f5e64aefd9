#!/bin/bash
# SPDX-License-Identifier: MIT
# A certificate enrolled by eca-est works for real: mosquitto_pub over TLS with it to a
# Mosquitto broker that requires client certificates from the EST CA, seen by mosquitto_sub.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
command -v mosquitto >/dev/null || die "mosquitto not installed (scripts/deps.sh)"
start_est_ca
TOKEN=$(cat "$EST_TOKEN_FILE")

est_env "$IT_TMP/dev"
run_est enroll --once || die "enroll failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"

log "broker: server certificate from a separate throwaway CA; clients must chain to the EST CA"
make_tls_ca "$IT_TMP/broker-tls"
MQ_PORT=$(free_port)
cat >"$IT_TMP/mosquitto.conf" <<CONF
user $(id -un)
persistence false
log_dest stderr
listener $MQ_PORT 127.0.0.1
cafile $CA_CERTS_PATH
certfile $IT_TMP/broker-tls/server.pem
keyfile $IT_TMP/broker-tls/server.key
require_certificate true
use_identity_as_username true
allow_anonymous false
CONF
bg_start mosquitto mosquitto -c "$IT_TMP/mosquitto.conf"
wait_for_port "$MQ_PORT" 20

MSG="hello-from-eca-est-$$"
TLS=(-h 127.0.0.1 -p "$MQ_PORT" --cafile "$IT_TMP/broker-tls/ca.pem")
bg_start sub timeout 30 mosquitto_sub "${TLS[@]}" --cert "$CERT_PATH" --key "$KEY_PATH" \
    -t eca/test -C 1 -W 25
SUB_PID=$BG_PID
sleep 1
timeout 20 mosquitto_pub "${TLS[@]}" --cert "$CERT_PATH" --key "$KEY_PATH" -t eca/test \
    -m "$MSG" >"$IT_TMP/pub.log" 2>&1 || die "mosquitto_pub with the enrolled certificate failed"
wait "$SUB_PID" 2>/dev/null || true
grep -qx -e "$MSG" "$IT_TMP/sub.log" || die "mosquitto_sub did not receive the message"

log "negative: the bootstrap certificate (another CA) is refused by the broker"
if timeout 20 mosquitto_pub "${TLS[@]}" --cert "$EST_CA_DIR/bootstrap.pem" \
    --key "$EST_CA_DIR/bootstrap.key" -t eca/test -m x >"$IT_TMP/pub-bad.log" 2>&1; then
    die "the broker accepted a certificate outside the EST CA"
fi

assert_absent "$TOKEN"
log "PASS"
