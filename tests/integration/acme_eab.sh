#!/bin/bash
# SPDX-License-Identifier: MIT
# External account binding: pebble requires it; a wrong key fails (exit 1), the right one
# issues; the HMAC key (a canary) never appears in the agent's output.
. "$(dirname "$0")/lib.sh"
it_init
canary=$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
start_pebble --eab "kid-eca=$canary"

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=eab.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT" EAB_KID=kid-eca
export EAB_HMAC_KEY_FILE="$d/eab.key"
wrong=$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
(umask 077; printf '%s\n' "$wrong" >"$EAB_HMAC_KEY_FILE")
rc=0; run_agent wrong --once || rc=$?
[ "$rc" = 1 ] || die "wrong EAB key: exit $rc, want 1"
grep -q '"event":"renew_failed".*unauthorized' "$IT_TMP/wrong.log" || die "wrong key not refused as unauthorized"
[ ! -e "$CERT_PATH" ] || die "installed a certificate without a valid binding"

(umask 077; printf '%s\n' "$canary" >"$EAB_HMAC_KEY_FILE")
rm -f "$STATE_DIR/account.url"
run_agent eab --once || die "EAB run exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" eab.test
for f in wrong eab; do
    grep -qF -e "$canary" "$IT_TMP/$f.log" && die "HMAC key leaked into $f.log"
    grep -qF -e "$wrong" "$IT_TMP/$f.log" && die "wrong HMAC key leaked into $f.log"
done
log "PASS"
