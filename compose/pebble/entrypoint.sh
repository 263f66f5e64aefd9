#!/bin/sh
# SPDX-License-Identifier: MIT
# Write pebble's config with the EAB key from the Docker secret, then run pebble as svc.
set -eu

kid=${EAB_KID:-eca-demo}
key=$(tr -d ' \r\n' </run/secrets/eab_hmac_key)
cfg=$(mktemp /tmp/pebble-config.XXXXXX)
umask 077
cat >"$cfg" <<JSON
{
  "pebble": {
    "listenAddress": "0.0.0.0:4210",
    "managementListenAddress": "0.0.0.0:4215",
    "certificate": "/pki/pebble.pem",
    "privateKey": "/pki-private/pebble.key",
    "httpPort": 4212,
    "tlsPort": 4219,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": true,
    "externalAccountMACKeys": { "$kid": "$key" },
    "certificateValidityPeriod": ${CERT_VALIDITY_SECONDS:-3600}
  }
}
JSON
chown 10002:10002 "$cfg"
exec setpriv --reuid=10002 --regid=10002 --clear-groups --no-new-privs \
    /usr/bin/pebble -config "$cfg" -dnsserver "${PEBBLE_DNS_SERVER:-172.28.0.11:8053}"
