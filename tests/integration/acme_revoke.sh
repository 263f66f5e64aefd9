#!/bin/bash
# SPDX-License-Identifier: MIT
# `eca-acme revoke` revokes the installed certificate; pebble's management API confirms it.
# Then `status` shows it revoked and unhealthy (exit 1) and the next pass renews it (reason
# revoked); `revoke --renew` revokes and renews at once.
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
[ "$(cat "$STATE_DIR/revoke.test.revoked")" = "$serial" ] || die "the revoked serial is not kept"

rc=0; timeout 20 "$ECA_ACME" status >"$IT_TMP/st.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "status of a revoked certificate: exit $rc, want 1: $(cat "$IT_TMP/st.out")"
grep -q '^  revoked:   yes' "$IT_TMP/st.out" || die "status text: $(cat "$IT_TMP/st.out")"
grep -q '^  next:      revoked at ' "$IT_TMP/st.out" || die "status next: $(cat "$IT_TMP/st.out")"
rc=0; timeout 20 "$ECA_ACME" status --json >"$IT_TMP/st.json" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "status --json of a revoked certificate: exit $rc, want 1"
python3 - "$IT_TMP/st.json" <<'PY' || die "status --json: $(cat "$IT_TMP/st.json")"
import json, sys
c = json.load(open(sys.argv[1]))["certificates"][0]
assert c["revoked"] is True and c["next_reason"] == "revoked", c
PY

rc=0; timeout 60 "$ECA_ACME" revoke >"$IT_TMP/again.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "second revoke: exit $rc, want 1"

log "a pass that cannot reach the CA leaves it revoked: unhealthy in status and metrics"
rc=0
CA_URL="https://127.0.0.1:$(free_port)/dir" METRICS_TEXTFILE="$IT_TMP/eca.prom" \
    run_agent dead --once || rc=$?
[ "$rc" = 1 ] || die "a pass that cannot renew: exit $rc, want 1"
grep -qF '"decision":"revoked"' "$IT_TMP/dead.log" || die "dead CA: no cert_checked decision=revoked"
grep -q '^eca_cert_healthy{.*cert="revoke.test".*} 0$' "$IT_TMP/eca.prom" ||
    die "metrics: $(grep eca_cert_healthy "$IT_TMP/eca.prom")"
python3 - "$STATE_DIR/status.json" <<'PY' || die "status.json: $(cat "$STATE_DIR/status.json")"
import json, sys
c = json.load(open(sys.argv[1]))["certificates"][0]
assert c["revoked"] is True, c
PY

log "the next pass renews the revoked certificate"
run_agent next --once || die "pass after revoke exited $?"
grep -F '"event":"renew_started"' "$IT_TMP/next.log" | grep -qF '"reason":"revoked"' ||
    die "no renew_started reason=revoked after revoke"
grep -qF '"decision":"revoked"' "$IT_TMP/next.log" || die "no cert_checked decision=revoked"
assert_installed "$CERT_PATH" "$KEY_PATH" revoke.test
serial2=$(cert_serial "$CERT_PATH")
[ "$serial2" != "$serial" ] || die "still the revoked certificate"
[ ! -e "$STATE_DIR/revoke.test.revoked" ] || die "the revoked mark outlived the renewal"
rc=0; timeout 20 "$ECA_ACME" status >"$IT_TMP/st2.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "status after the renewal: exit $rc: $(cat "$IT_TMP/st2.out")"
grep -q 'revoked:' "$IT_TMP/st2.out" && die "status still says revoked: $(cat "$IT_TMP/st2.out")"
run_agent quiet --once || die "pass after the renewal exited $?"
grep -qF '"event":"renew_started"' "$IT_TMP/quiet.log" && die "renewed again without cause"

log "revoke --renew: revoked and renewed at once"
timeout 120 "$ECA_ACME" revoke --renew >"$IT_TMP/rr.log" 2>&1 || die "revoke --renew exited $?"
grep -qF '"event":"cert_revoked"' "$IT_TMP/rr.log" || die "revoke --renew: no cert_revoked"
pebble_cert_status "$serial2" | grep -q '"Status": *"Revoked"' || die "pebble: $serial2 not revoked"
grep -F '"event":"renew_started"' "$IT_TMP/rr.log" | grep -qF '"reason":"revoked"' ||
    die "revoke --renew: no renew_started reason=revoked"
assert_installed "$CERT_PATH" "$KEY_PATH" revoke.test
[ "$(cert_serial "$CERT_PATH")" != "$serial2" ] || die "revoke --renew: still the revoked certificate"
rc=0; timeout 20 "$ECA_ACME" status >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || die "status after revoke --renew: exit $rc"
log "PASS"
