#!/bin/sh
# SPDX-License-Identifier: MIT
# DNS for pebble's validation: every name resolves to WEB_ADDR, or to WEB_HOST's address (the
# nginx service on a compose network), so that pebble checks http-01 at nginx.
set -eu

addr=${WEB_ADDR:-}
if [ -z "$addr" ]; then
    # The service may not be up yet; its name resolves once its container exists.
    for _ in $(seq 60); do
        addr=$(getent ahostsv4 "${WEB_HOST:-nginx}" | awk 'NR == 1 { print $1 }')
        [ -n "$addr" ] && break
        sleep 1
    done
    [ -n "$addr" ] || { echo "challtestsrv: cannot resolve ${WEB_HOST:-nginx}" >&2; exit 1; }
fi
echo "challtestsrv: every name resolves to $addr"
exec /usr/bin/pebble-challtestsrv -dns01 "${LISTEN_ADDR:-0.0.0.0}:${DNS_PORT:-8053}" \
    -http01 "" -https01 "" -tlsalpn01 "" \
    -management "${LISTEN_ADDR:-0.0.0.0}:${MGMT_PORT:-8055}" -defaultIPv4 "$addr" -defaultIPv6 ""
