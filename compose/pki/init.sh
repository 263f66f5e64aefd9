#!/bin/sh
# SPDX-License-Identifier: MIT
# One-shot, as root: hand the agents' shared volumes to the agent uid, then make a throwaway
# CA and TLS server certificates for pebble's API and for Mosquitto. Public files go to /pki,
# keys to /pki-private (each owned by the service that uses it).
set -eu

pub=${PKI_DIR:-/pki}
priv=${PKI_PRIVATE_DIR:-/pki-private}
# A named volume belongs to root unless the first image mounting it has the directory; nginx
# and the client mount these read-only, so ownership is settled here, before anyone starts.
# The agents mount these with nocopy, so the image's directory owner never replaces this one.
for d in ${AGENT_VOLUMES:-}; do
    mkdir -p "$d"
    chown "${ECA_UID:-10001}:${ECA_GID:-10001}" "$d"
    chmod 0755 "$d"
done
for d in ${AGENT_STATE_VOLUMES:-}; do
    mkdir -p "$d"
    chown "${ECA_UID:-10001}:${ECA_GID:-10001}" "$d"
    chmod 0700 "$d"
done
if [ -d /var/www/acme ]; then
    install -d -o "${ECA_UID:-10001}" -g "${ECA_GID:-10001}" -m 0755 \
        /var/www/acme/.well-known /var/www/acme/.well-known/acme-challenge
fi
if [ -s "$pub/ca.pem" ] && [ -s "$priv/pebble.key" ] && [ -s "$priv/mosquitto.key" ]; then
    echo "pki-init: already done"
    exit 0
fi
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$work/ca.key" -out "$work/ca.pem" -subj "/CN=ECA compose demo CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# issue NAME UID: a server certificate for DNS:NAME, DNS:localhost, IP:127.0.0.1.
issue() {
    printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
        "$1" >"$work/$1.ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$priv/$1.key" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -CAcreateserial -days 30 -extfile "$work/$1.ext" -out "$pub/$1.pem"
    chown "$2:$2" "$priv/$1.key"
    chmod 0600 "$priv/$1.key"
}
issue pebble 10002
issue mosquitto 10003
cp "$work/ca.pem" "$pub/ca.pem"
chmod 0644 "$pub"/*.pem
chmod 0755 "$pub"
chmod 0711 "$priv"
# The CA key is not kept: nothing else is ever issued by this CA.
echo "pki-init: CA and server certificates ready"
