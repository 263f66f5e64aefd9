#!/bin/bash
# SPDX-License-Identifier: MIT
# `eca-acme revoke` revokes the installed certificate; pebble's management API confirms it.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=revoke.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
run_agent issue --once || die "issue exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" revoke.test
serial=$(cert_serial "$CERT_PATH")
pebble_cert_status "$serial" | grep -q '"Status": *"Valid"' || die "pebble does not see $serial as valid"

rc=0; "$ECA_ACME" revoke --cert nonexistent >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || die "revoke of an unknown certificate: exit $rc, want 2"
timeout 60 "$ECA_ACME" revoke --reason 4 >"$IT_TMP/revoke.log" 2>&1 || die "revoke exited $?"
grep -q '"event":"cert_revoked"' "$IT_TMP/revoke.log" || die "no cert_revoked event"
pebble_cert_status "$serial" >"$IT_TMP/status.json"
grep -q '"Status": *"Revoked"' "$IT_TMP/status.json" || die "pebble: $(cat "$IT_TMP/status.json")"
rc=0; timeout 60 "$ECA_ACME" revoke >"$IT_TMP/again.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "second revoke: exit $rc, want 1"
log "PASS"
