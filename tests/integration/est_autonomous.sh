#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-est autonomous operation: status and status --json, the status file, a persisted
# backoff that a restarted daemon honours (EST server down), USR1 forcing a renewal in the
# daemon, and TERM ending it with exit 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_est_ca
D=$IT_TMP/a
est_env "$D"

run_est enroll --once || die "enroll failed"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
s1=$(cert_serial "$CERT_PATH")
"$ECA_EST" status --json >"$IT_TMP/status.json" 2>"$IT_TMP/status.log" || die "status --json"
python3 - "$IT_TMP/status.json" "$STATE_DIR/status.json" "$s1" <<'PY' || die "status JSON"
import json, sys
for path in sys.argv[1:3]:
    doc = json.load(open(path))
    assert doc["agent"] == "eca-est", doc
    c = doc["certificates"][0]
    assert c["name"] == "edge-client" and c["present"] and c["serial"] == sys.argv[3], c
    assert c["subject"].startswith("CN=edge-client"), c
    assert c["failures"] == 0 and c["last_error"] is None, c
PY
"$ECA_EST" status >"$IT_TMP/status.txt" 2>>"$IT_TMP/status.log" || die "status"
grep -q "serial:    $s1" "$IT_TMP/status.txt" || die "status lacks the serial"

log "daemon: USR1 forces a renewal, TERM stops it (exit 0)"
bg_start daemon "$ECA_EST"
pid=$BG_PID
for _ in $(seq 100); do grep -q '"event":"cert_checked"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
kill -USR1 "$pid"
for _ in $(seq 300); do grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" || die "USR1 did not renew"
[ "$(cert_serial "$CERT_PATH")" != "$s1" ] || die "USR1 kept the serial"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"

log "EST server down: the failure is persisted and a restart waits for the backoff"
D2=$IT_TMP/b
est_env "$D2"
export CA_URL="https://127.0.0.1:$(free_port)"
rc=0; run_est down1 --once || rc=$?
[ "$rc" = 1 ] || die "server down: exit $rc, want 1"
grep -q '^eca-sched 1 1 ' "$STATE_DIR/edge-client.sched" || die "backoff not persisted"
bg_start down2 "$ECA_EST"
pid=$BG_PID
for _ in $(seq 100); do grep -q '"event":"agent_started"' "$IT_TMP/down2.log" && break; sleep 0.1; done
sleep 3
grep -q '"event":"renew_started"' "$IT_TMP/down2.log" && die "restart hammered the EST server"
grep -q '"next_reason":"retry"' "$STATE_DIR/status.json" || die "status file lacks the retry"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
log "PASS"
