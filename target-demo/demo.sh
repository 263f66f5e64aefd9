#!/bin/bash
# SPDX-License-Identifier: MIT
# The local demo: pebble on 127.0.0.1:4210, eca-acme --once with its built-in http-01
# listener on 127.0.0.1:4212, then the issued certificate is printed and everything stops.
. "$(dirname "$0")/../tests/integration/lib.sh"
it_init
export PEBBLE_PORT=${PEBBLE_PORT:-4210} PEBBLE_HTTP01_PORT=${PEBBLE_HTTP01_PORT:-4212}
for p in "$PEBBLE_PORT" "$PEBBLE_HTTP01_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is already in use"; fi
done
[ -x "$ECA_ACME" ] || die "$ECA_ACME not built: run make"

log "starting pebble (ACME test CA) on 127.0.0.1:$PEBBLE_PORT"
start_pebble
d=$IT_TMP/demo
agent_env "$d"
export DOMAIN_NAME=demo.eca.test,www.demo.eca.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
export LOG_LEVEL=info LOG_FORMAT=text
log "running: eca-acme --once  (CA_URL=$CA_URL DOMAIN_NAME=$DOMAIN_NAME)"
timeout 120 "$ECA_ACME" --once || die "eca-acme failed"
echo
echo "== installed $CERT_PATH (key $KEY_PATH, mode $(stat -c %a "$KEY_PATH")) =="
openssl x509 -in "$CERT_PATH" -noout -subject -issuer -dates -ext subjectAltName
split_fullchain "$CERT_PATH" "$IT_TMP/leaf.pem" "$IT_TMP/issuers.pem"
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$IT_TMP/issuers.pem" "$IT_TMP/leaf.pem"
echo
"$ECA_ACME" status
log "demo done; stopping pebble"
