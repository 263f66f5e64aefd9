#!/bin/sh
# SPDX-License-Identifier: MIT
# Initialise the demo EST CA once, add the bootstrap token from the Docker secret, publish the
# trust anchors, and serve. est_ca.py binds 127.0.0.1 only (EST_PORT, CRL_PORT), so socat
# relays LISTEN_ADDR:EST_RELAY_PORT and :CRL_RELAY_PORT to it; TLS stays end to end.
set -eu

data=/data
trust=/est-trust
drop="setpriv --reuid=10002 --regid=10002 --clear-groups --no-new-privs"

if [ ! -s "$data/root-ca.pem" ]; then
    $drop python3 /usr/local/bin/est_ca.py init --dir "$data" \
        --validity-seconds "${EST_VALIDITY_SECONDS:-600}" --user "${EST_USERNAME:-estuser}"
fi
if [ -r /run/secrets/bootstrap_token ]; then
    line="${EST_USERNAME:-estuser}:$(tr -d ' \r\n' </run/secrets/bootstrap_token)"
    grep -qxF "$line" "$data/tokens" 2>/dev/null || printf '%s\n' "$line" >>"$data/tokens"
    chown 10002:10002 "$data/tokens"
    chmod 0600 "$data/tokens"
fi
cp "$data/root-ca.pem" "$data/ca-chain.pem" "$trust/"
chmod 0644 "$trust"/*.pem

est=${EST_PORT:-4222}
crl=${CRL_PORT:-4211}
listen=${LISTEN_ADDR:-0.0.0.0}
$drop socat "TCP-LISTEN:${EST_RELAY_PORT:-14222},bind=$listen,fork,reuseaddr" "TCP:127.0.0.1:$est" &
$drop socat "TCP-LISTEN:${CRL_RELAY_PORT:-14211},bind=$listen,fork,reuseaddr" "TCP:127.0.0.1:$crl" &
exec $drop python3 /usr/local/bin/est_ca.py serve --dir "$data" --listen "127.0.0.1:$est" \
    --crl-listen "127.0.0.1:$crl" --crl-url "${CRL_URL:-http://127.0.0.1:4211/crl.der}"
