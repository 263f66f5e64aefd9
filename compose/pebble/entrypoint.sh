#!/bin/sh
# SPDX-License-Identifier: MIT
# Write pebble's config with the EAB key from the Docker secret, then run pebble as svc.
set -eu

kid=${EAB_KID:-eca-demo}
key=$(tr -d ' \r\n' </run/secrets/eab_hmac_key)
listen=${LISTEN_ADDR:-0.0.0.0}
cfg=$(mktemp /tmp/pebble-config.XXXXXX)
umask 077
cat >"$cfg" <<JSON
{
  "pebble": {
    "listenAddress": "$listen:${PEBBLE_PORT:-4210}",
    "managementListenAddress": "$listen:${PEBBLE_MGMT_PORT:-4215}",
    "certificate": "/pki/pebble.pem",
    "privateKey": "/pki-private/pebble.key",
    "httpPort": ${HTTP01_PORT:-4212},
    "tlsPort": ${TLSALPN01_PORT:-4219},
    "ocspResponderURL": "",
    "externalAccountBindingRequired": true,
    "externalAccountMACKeys": { "$kid": "$key" },
    "certificateValidityPeriod": ${CERT_VALIDITY_SECONDS:-3600}
  }
}
JSON
chown 10002:10002 "$cfg"
# pebble wants an address for its DNS server: resolve a service name once here.
dns=${DNS_SERVER:-challtestsrv:8053}
host=${dns%:*}
case "$host" in
*[!0-9.]*) host=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }') ;;
esac
[ -n "$host" ] || { echo "pebble: cannot resolve ${dns%:*}" >&2; exit 1; }
exec setpriv --reuid=10002 --regid=10002 --clear-groups --no-new-privs \
    /usr/bin/pebble -config "$cfg" -dnsserver "$host:${dns##*:}"
