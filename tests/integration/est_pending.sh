#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-est in the field (issue 10 items 1-2) against the demo EST CA:
#  (a) a single-use token deleted after the first enrollment: re-enrollment over mTLS, `status`
#      and a daemon restart need no credential; without a usable certificate the error names
#      what to provide;
#  (c) a server that needs no HTTP authentication enrolls with no credential configured;
#  (b) manual approval: a 202 with Retry-After 3600 is a scheduled wake-up in the daemon (one
#      request, no failure, no hammering), survives restarts, and once approved is collected
#      with the key kept at the first 202; the fast case (Retry-After 4) is collected by a
#      restarted daemon that sleeps until the time the server asked.
# eca-timeout: 240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca

# wait_log LOG PATTERN [TENTHS]: until the scenario log LOG has a line matching PATTERN.
wait_log() {
    for _ in $(seq "${3:-150}"); do
        grep -q -- "$2" "$IT_TMP/$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# posts STATUS: enrollment POSTs the CA answered with STATUS so far.
posts() { grep -c "\"POST /.well-known/est/simple\(re\)\?enroll\" $1" "$IT_TMP/est-ca.log" || true; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }

log "(a) a token file used once, then deleted"
D=$IT_TMP/a
est_env "$D"
install -m 600 "$EST_TOKEN_FILE" "$D/token"
export BOOTSTRAP_TOKEN_FILE="$D/token"
run_est a-first --once || die "first enrollment with the token failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
s1=$(cert_serial "$CERT_PATH")
rm -f "$D/token"
run_est a-renew --once --force || die "re-enrollment after the token file was deleted failed"
grep -q '"event":"bootstrap_token_missing"' "$IT_TMP/a-renew.log" || die "no warning for the token"
last_event a-renew enroll_started | grep -q '"op":"simplereenroll","auth":"certificate"' ||
    die "re-enrollment did not authenticate with the installed certificate"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
[ "$(cert_serial "$CERT_PATH")" != "$s1" ] || die "no new certificate"
"$ECA_EST" status >"$IT_TMP/a-status.txt" 2>&1 </dev/null || die "status exit $? without the token"
log "(a) a daemon restarted without the token renews on USR1"
bg_start a-daemon "$ECA_EST"
pid=$BG_PID
wait_log a-daemon '"event":"cert_checked"' || die "the daemon did not start without the token"
s2=$(cert_serial "$CERT_PATH")
kill -USR1 "$pid"
wait_log a-daemon '"event":"cert_installed"' 300 || die "the daemon did not renew on USR1"
[ "$(cert_serial "$CERT_PATH")" != "$s2" ] || die "USR1 kept the serial"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
log "(a) without a usable certificate, the error names what to provide"
rm -f "$CERT_PATH"
rc=0; run_est a-none --once || rc=$?
[ "$rc" = 1 ] || die "no certificate and no token: exit $rc, want 1"
line=$(last_event a-none renew_failed)
echo "$line" | grep -q 'challenged for Basic' || die "error does not name the challenge: $line"
echo "$line" | grep -q "the token file $D/token no longer exists" || die "token file not named: $line"
echo "$line" | grep -q 'BOOTSTRAP_CERT_PATH and BOOTSTRAP_KEY_PATH' || die "no advice: $line"

log "(c) a server without HTTP authentication: no credential configured"
est_mode no-auth
D=$IT_TMP/c
est_env "$D"
unset EST_USERNAME BOOTSTRAP_TOKEN_FILE
run_est c-first --once || die "enrollment without credentials failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
last_event c-first enroll_started | grep -q '"auth":"none"' || die "credentials were sent"
grep -q 'simpleenroll" 200 auth=none' "$IT_TMP/est-ca.log" || die "the CA saw authentication"

log "(b) manual approval, Retry-After 3600, daemon: a scheduled wake-up, one request"
est_mode manual
echo 3600 >"$EST_CA_DIR/retry-after"
D=$IT_TMP/b
est_env "$D"
before=$(posts 202)
bg_start b-daemon "$ECA_EST"
pid=$BG_PID
wait_log b-daemon '"event":"enroll_pending"' || die "no enroll_pending"
sleep 4
kill -0 "$pid" 2>/dev/null || die "the daemon exited on a 202"
[ "$(($(posts 202) - before))" = 1 ] || die "$(($(posts 202) - before)) POSTs in 4 s, want 1"
grep -q '"event":"renew_failed"' "$IT_TMP/b-daemon.log" && die "a 202 counted as a failure"
last_event b-daemon enroll_pending | grep -q '"retry_after":3600,.*"scheduled":true' ||
    die "no scheduled wake-up: $(last_event b-daemon enroll_pending)"
grep -q '"event":"sleeping"' "$IT_TMP/b-daemon.log" || die "the daemon did not go to sleep"
for f in edge-client.pending edge-client.pending.key edge-client.pending.csr; do
    [ "$(stat -c %a "$STATE_DIR/$f")" = 600 ] || die "$f missing or not 0600"
done
pubkey_of_key "$STATE_DIR/edge-client.pending.key" >"$IT_TMP/pending.pub"
rc=0; "$ECA_EST" status >"$IT_TMP/b-status.txt" 2>&1 </dev/null || rc=$?
[ "$rc" = 1 ] || die "status with a first enrollment pending: exit $rc, want 1"
grep -q '^  pending:   approval since 20.*, next try 20' "$IT_TMP/b-status.txt" ||
    die "status does not show the pending request: $(cat "$IT_TMP/b-status.txt")"
"$ECA_EST" status --json >"$IT_TMP/b-status.json" 2>&1 </dev/null || true
grep -q '"pending_since":"20' "$IT_TMP/b-status.json" ||
    die "status --json lacks it: $(cat "$IT_TMP/b-status.json")"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
log "(b) --once before the server's time: exit 1, enroll_pending, no request"
rc=0; run_est b-once --once || rc=$?
[ "$rc" = 1 ] || die "--once with a request pending: exit $rc, want 1"
last_event b-once enroll_pending | grep -q 'not due yet; next try at 20' || die "no next try named"
[ "$(($(posts 202) - before))" = 1 ] || die "--once asked the CA again before its time"
log "(b) approved while the agent was down; the restarted daemon collects it on USR1"
est_ca approve --dir "$EST_CA_DIR" 2>>"$IT_TMP/est-ca-cli.log" || die "approve failed"
bg_start b-daemon2 "$ECA_EST"
pid=$BG_PID
wait_log b-daemon2 '"event":"enroll_pending"' || die "restarted daemon did not see the request"
[ "$(($(posts 202) - before))" = 1 ] || die "the restart asked the CA again before its time"
kill -USR1 "$pid"
wait_log b-daemon2 '"event":"cert_installed"' 300 || die "approved request not collected"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
[ "$(pubkey_of_cert "$CERT_PATH")" = "$(cat "$IT_TMP/pending.pub")" ] ||
    die "the certificate is not for the key kept at the first 202"
[ -e "$STATE_DIR/edge-client.pending" ] && die "pending state left behind"
[ -e "$STATE_DIR/edge-client.pending.key" ] && die "pending key left behind"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
"$ECA_EST" status >/dev/null 2>&1 </dev/null || die "status after collection: exit $?"

log "(b) fast case: Retry-After 4, approved, a restarted daemon wakes up and collects it"
echo 4 >"$EST_CA_DIR/retry-after"
D=$IT_TMP/b2
est_env "$D"
export SUBJECT_DN="CN=edge-fast,O=Example" SANS="edge-fast.test" EST_MAX_PENDING_SECONDS=1
rc=0; run_est b2-once --once || rc=$?
[ "$rc" = 1 ] || die "fast case: exit $rc, want 1"
pubkey_of_key "$STATE_DIR/edge-fast.pending.key" >"$IT_TMP/pending2.pub"
est_ca approve --dir "$EST_CA_DIR" 2>>"$IT_TMP/est-ca-cli.log" || die "approve failed"
bg_start b2-daemon "$ECA_EST"
pid=$BG_PID
wait_log b2-daemon '"event":"cert_installed"' 150 || die "the restarted daemon did not collect"
grep -q 'pending approval, not due yet; next try at' "$IT_TMP/b2-daemon.log" ||
    die "the restarted daemon did not wait for the time the server asked"
[ "$(pubkey_of_cert "$CERT_PATH")" = "$(cat "$IT_TMP/pending2.pub")" ] ||
    die "fast case: not the key kept at the first 202"
kill -TERM "$pid"
wait "$pid" || true
unset EST_MAX_PENDING_SECONDS
assert_absent "$(cat "$EST_TOKEN_FILE")"
log "PASS"
