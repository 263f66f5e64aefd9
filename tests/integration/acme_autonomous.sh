#!/bin/bash
# SPDX-License-Identifier: MIT
# Autonomous operation: two certificates where one fails and the other renews, `status` and
# `status --json`, the status file, a persisted backoff across a restart (CA down), and
# verify-and-rollback against a TLS server that keeps serving the old certificate.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
mkdir -p "$d/out" "$d/state" "$d/notadir"
conf=$d/agent.conf
cat >"$conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
log_level = "debug";
concurrency = 1; # good's reload breaks bad's directory before bad's pass: one after the other
certificates = (
  { name = "good"; domains = [ "good.test" ];
    cert_path = "$d/out/good.pem"; key_path = "$d/out/good.key";
    reload_command = "sh -c 'rm -rf $d/notadir && : >$d/notadir'"; },
  { name = "bad"; domains = [ "bad.test" ];
    cert_path = "$d/notadir/bad.pem"; key_path = "$d/notadir/bad.key"; }
);
CONF

# 1. One certificate fails (its directory is a file), the other is issued all the same. A
# directory that is a file at start is a configuration error (exit 2, nothing ordered), so it
# turns into one during the pass: good's reload (good comes first) does it.
rc=0; METRICS_TEXTFILE="$d/eca.prom" run_agent two --config "$conf" --once || rc=$?
[ "$rc" = 1 ] || die "two certificates, one failing: exit $rc, want 1"
assert_installed "$d/out/good.pem" "$d/out/good.key" good.test
grep -q '"event":"renew_failed","cert":"bad"' "$IT_TMP/two.log" || die "no renew_failed for bad"
[ -s "$d/state/bad.sched" ] || die "no persisted retry state for bad"
grep -q '^eca_renewals_total{.*cert="good".*} 1' "$d/eca.prom" || die "textfile: no renewal of good"
grep '^eca_renewal_failures_total{' "$d/eca.prom" | grep 'cert="bad"' | grep -q 'ENOTFOUND.*} 1$' ||
    die "textfile: no ENOTFOUND failure of bad: $(grep 'failures_total{' "$d/eca.prom")"
# The health verdict per certificate, as `status` gives it below.
grep -q '^eca_cert_healthy{.*cert="good".*} 1$' "$d/eca.prom" || die "textfile: good is not healthy"
grep -q '^eca_cert_healthy{.*cert="bad".*} 0$' "$d/eca.prom" || die "textfile: bad is not unhealthy"

# 2. status (text and JSON) and the status file; one certificate failing: status exits 1.
rc=0; "$ECA_ACME" --config "$conf" status >"$IT_TMP/status.txt" 2>"$IT_TMP/status.log" || rc=$?
[ "$rc" = 1 ] || die "status with a failing certificate: exit $rc, want 1"
serial=$(cert_serial "$d/out/good.pem")
grep -q "serial:    $serial" "$IT_TMP/status.txt" || die "status lacks the serial"
grep -q "failures:  1, last error" "$IT_TMP/status.txt" || die "status lacks the failure"
rc=0; "$ECA_ACME" --config "$conf" status --json >"$IT_TMP/status.json" 2>>"$IT_TMP/status.log" ||
    rc=$?
[ "$rc" = 1 ] || die "status --json with a failing certificate: exit $rc, want 1"
python3 - "$IT_TMP/status.json" "$d/state/status.json" "$serial" <<'PY' || die "status JSON"
import json, sys
for path in sys.argv[1:3]:
    doc = json.load(open(path))
    assert doc["agent"] == "eca-acme", doc
    certs = {c["name"]: c for c in doc["certificates"]}
    good, bad = certs["good"], certs["bad"]
    assert good["present"] and good["serial"] == sys.argv[3], good
    assert 90 <= good["lifetime_left_pct"] <= 100, good
    assert good["next_reason"] in ("check", "renew"), good
    assert not bad["present"] and bad["failures"] == 1, bad
    assert bad["next_reason"] == "retry" and bad["last_error_rc"], bad
PY

# 3. Persisted backoff: with the CA down, a restarted daemon does not retry at once.
cat >"$d/down.conf" <<CONF
ca_url = "https://127.0.0.1:$(free_port)/dir";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state-down";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
certificates = ( { name = "down"; domains = [ "down.test" ];
    cert_path = "$d/out/down.pem"; key_path = "$d/out/down.key"; } );
CONF
bg_start down1 "$ECA_ACME" --config "$d/down.conf"
for _ in $(seq 100); do grep -q '"event":"renew_failed"' "$IT_TMP/down1.log" && break; sleep 0.1; done
grep -q '"event":"renew_failed"' "$IT_TMP/down1.log" || die "CA down: no renew_failed"
bg_stop down1
grep -q '^eca-sched 1 1 ' "$d/state-down/down.sched" || die "backoff not persisted"
mport=$(free_port)
METRICS_LISTEN="127.0.0.1:$mport" bg_start down2 "$ECA_ACME" --config "$d/down.conf"
pid=$BG_PID
for _ in $(seq 100); do grep -q '"event":"agent_started"' "$IT_TMP/down2.log" && break; sleep 0.1; done
sleep 3
grep -q '"event":"renew_started"' "$IT_TMP/down2.log" && die "restart hammered the CA"
grep -q '"next_reason":"retry"' "$d/state-down/status.json" || die "status file lacks the retry"
curl -sS --max-time 5 "http://127.0.0.1:$mport/metrics" >"$IT_TMP/metrics.txt" ||
    die "metrics endpoint did not answer"
grep -q 'cert="down"' "$IT_TMP/metrics.txt" || die "metrics endpoint lacks the certificate"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"

# 4. Verify and roll back: the target keeps serving the old certificate.
cp "$d/out/good.pem" "$IT_TMP/served.pem"
cp "$d/out/good.key" "$IT_TMP/served.key"
vport=$(free_port)
bg_start sserver openssl s_server -quiet -accept "127.0.0.1:$vport" \
    -cert "$IT_TMP/served.pem" -key "$IT_TMP/served.key"
wait_for_port "$vport"
sed -i "s|cert_path = \"$d/out/good.pem\";|&\n    verify = \"127.0.0.1:$vport\"; verify_timeout_seconds = 2;|" "$conf"
rm -f "$d/notadir" && mkdir "$d/notadir" # a directory again at start (see 1.)
rc=0; run_agent verify --config "$conf" --once --force || rc=$?
[ "$rc" = 1 ] || die "verify against a stale server: exit $rc, want 1"
grep -q '"event":"verify_failed","cert":"good"' "$IT_TMP/verify.log" || die "no verify_failed"
grep -q '"event":"rollback_done","cert":"good"' "$IT_TMP/verify.log" || die "no rollback_done"
[ "$(cert_serial "$d/out/good.pem")" = "$serial" ] || die "old certificate not restored"
assert_installed "$d/out/good.pem" "$d/out/good.key" good.test
[ "$(cert_serial "$d/out/good.pem.prev")" != "$serial" ] || die ".prev is not the rejected one"
log "PASS"
