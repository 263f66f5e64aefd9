#!/bin/sh
# SPDX-License-Identifier: MIT
# The mTLS client of the "client pod": relays the EST CA to 127.0.0.1:EST_LOCAL_PORT and
# :CRL_LOCAL_PORT (127.0.0.1 is in its server certificate) for the eca-est sidecar sharing this
# network namespace, then publishes to Mosquitto with the certificate the sidecar keeps fresh.
set -eu

ca=${EST_CA_HOST:-est-ca}
socat "TCP-LISTEN:${EST_LOCAL_PORT:-4222},bind=127.0.0.1,fork,reuseaddr" "TCP:$ca:${EST_CA_PORT:-14222}" &
socat "TCP-LISTEN:${CRL_LOCAL_PORT:-4211},bind=127.0.0.1,fork,reuseaddr" "TCP:$ca:${CRL_CA_PORT:-14211}" &

cert=${CERT_PATH:-/certs/client.pem}
key=${KEY_PATH:-/certs/client.key}
while :; do
    if [ -s "$cert" ] && [ -s "$key" ]; then
        mosquitto_pub -h "${MQTT_HOST:-mosquitto}" -p "${MQTT_PORT:-4214}" --cafile /pki/ca.pem \
            --cert "$cert" --key "$key" -t eca/demo -m "hello at $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            && echo "client: published" || echo "client: publish failed"
    else
        echo "client: waiting for $cert"
    fi
    sleep "${PUBLISH_SECONDS:-30}"
done
