#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-acme issues a certificate from pebble with its built-in http-01 listener (environment
# mode), reuses its account on the next run, and reports status; CLI exit codes.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=listener.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"

"$ECA_ACME" --version | grep -q '^eca-acme ' || die "--version"
rc=0; "$ECA_ACME" --no-such-flag 2>/dev/null || rc=$?
[ "$rc" = 2 ] || die "unknown flag: exit $rc, want 2"
rc=0; KEY_TYPE=dsa "$ECA_ACME" --check-config >/dev/null 2>"$IT_TMP/badconf.log" || rc=$?
[ "$rc" = 2 ] || die "bad KEY_TYPE: exit $rc, want 2"
grep -q 'KEY_TYPE' "$IT_TMP/badconf.log" || die "config error does not name KEY_TYPE"
"$ECA_ACME" --check-config | grep -q 'configuration OK' || die "--check-config"

run_agent issue --once || die "eca-acme --once exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" listener.test
# CHAIN_PATH holds the issuers alone.
[ "$(grep -c 'BEGIN CERTIFICATE' "$CHAIN_PATH")" -ge 1 ] || die "chain file empty"
! openssl x509 -in "$CHAIN_PATH" -noout -ext subjectAltName 2>/dev/null | grep -q listener.test ||
    die "chain file starts with the leaf"
[ "$(stat -c %a "$STATE_DIR/account.key")" = 600 ] || die "account key mode"
[ -s "$STATE_DIR/account.url" ] || die "no account URL saved"
for ev in cert_checked renew_started order_started cert_issued cert_installed; do
    grep -q "\"event\":\"$ev\"" "$IT_TMP/issue.log" || die "no $ev event in the log"
done
grep -q 'BEGIN' "$IT_TMP/issue.log" && die "PEM material in the log"

serial=$(cert_serial "$CERT_PATH")
run_agent second --once || die "second --once exited $?"
[ "$(cert_serial "$CERT_PATH")" = "$serial" ] || die "renewed although nothing was due"
grep -q '"event":"account_key_created"' "$IT_TMP/second.log" && die "account key not reused"
grep -q '"event":"order_started"' "$IT_TMP/second.log" && die "ordered although nothing was due"

"$ECA_ACME" status >"$IT_TMP/status.txt" 2>"$IT_TMP/status.log" || die "status failed"
grep -q "serial:    $serial" "$IT_TMP/status.txt" || die "status lacks the serial"
grep -q "next:      renew at" "$IT_TMP/status.txt" || die "status lacks the next action"
cat "$IT_TMP/status.txt"
log "PASS"
