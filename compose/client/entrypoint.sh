#!/bin/sh
# SPDX-License-Identifier: MIT
# The mTLS client of the "client pod": relays the EST CA to 127.0.0.1 (the names in its
# server certificate) for the eca-est sidecar sharing this network namespace, then publishes
# to Mosquitto with the certificate the sidecar keeps fresh.
set -eu

socat TCP-LISTEN:4222,bind=127.0.0.1,fork,reuseaddr "TCP:${EST_CA_HOST:-est-ca}:14222" &
socat TCP-LISTEN:4211,bind=127.0.0.1,fork,reuseaddr "TCP:${EST_CA_HOST:-est-ca}:14211" &

cert=${CERT_PATH:-/certs/client.pem}
key=${KEY_PATH:-/certs/client.key}
while :; do
    if [ -s "$cert" ] && [ -s "$key" ]; then
        mosquitto_pub -h "${MQTT_HOST:-mosquitto}" -p 4214 --cafile /pki/ca.pem \
            --cert "$cert" --key "$key" -t eca/demo -m "hello at $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            && echo "client: published" || echo "client: publish failed"
    else
        echo "client: waiting for $cert"
    fi
    sleep "${PUBLISH_SECONDS:-30}"
done
