#!/bin/bash
# SPDX-License-Identifier: MIT
# Retry what failed: a reload command that fails for a while (while a marker file exists),
# then works; eca-acme is restarted in between. The new pair is installed once; every retry
# runs the reload again, never a new order or enrollment: exactly one certificate from the CA
# over the whole run, and the reload that finally works is for that certificate. Both daemons, against pebble and the demo EST CA.
# Then eca-acme with a server that does not serve the new pair (verify fails, rolled back):
# the retry installs the kept pair again and verifies, without ordering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"

# reload_cmd DIR: counts its runs in DIR/attempts, fails while DIR/marker exists, and records
# the serial it reloaded in DIR/reloaded.
reload_cmd() {
    local d=$1
    cat >"$d/reload.sh" <<SH
#!/bin/sh
echo run >>"$d/attempts"
[ -e "$d/marker" ] && exit 1
openssl x509 -in "\$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f' >>"$d/reloaded"
SH
    chmod 0755 "$d/reload.sh"
    : >"$d/marker"
}

# wait_runs DIR N SECONDS: until the reload command ran N times.
wait_runs() {
    local i
    for i in $(seq $(($3 * 10))); do
        [ "$(wc -l <"$1/attempts" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    die "the reload command ran $(wc -l <"$1/attempts" 2>/dev/null || echo 0) times, want $2"
}

# wait_file FILE SECONDS
wait_file() {
    local i
    for i in $(seq $(($2 * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done
    die "$1 did not appear in $2 s"
}

# stop_daemon PID: TERM, exit 0 expected.
stop_daemon() {
    local rc=0
    kill -TERM "$1"
    wait "$1" || rc=$?
    [ "$rc" = 0 ] || die "daemon exited $rc after TERM"
}

log "eca-acme: reload fails 3 times, then works: one order"
start_pebble --validity 120
A=$IT_TMP/acme
mkdir -p "$A/out" "$A/state"
reload_cmd "$A"
cat >"$A/agent.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$A/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
check_interval_seconds = 3;
log_level = "debug";
certificates = (
  { name = "web"; domains = [ "web.test" ];
    cert_path = "$A/out/web.pem"; key_path = "$A/out/web.key";
    reload_command = "$A/reload.sh $A/out/web.pem"; }
);
CONF
bg_start acme0 "$ECA_ACME" --config "$A/agent.conf"
pid=$BG_PID
wait_runs "$A" 2 60
grep -q '"event":"renew_failed","cert":"web".*"step":"reload"' "$IT_TMP/acme0.log" ||
    die "no renew_failed naming the reload step"
# A restart keeps the step to take up (STATE_DIR/web.sched): still no new order.
stop_daemon "$pid"
bg_start acme "$ECA_ACME" --config "$A/agent.conf"
pid=$BG_PID
wait_runs "$A" 4 60
grep -q '"event":"deploy_resumed","cert":"web"' "$IT_TMP/acme.log" ||
    die "no deploy_resumed after the restart"
grep -q '^eca-sched 1 [1-9][0-9]* .* reload [0-9a-f]*$' "$A/state/web.sched" ||
    die "the failed step is not persisted: $(head -n 1 "$A/state/web.sched")"
rc=0; "$ECA_ACME" --config "$A/agent.conf" status >"$IT_TMP/acme-status.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "status while the reload fails: exit $rc, want 1"
rm -f "$A/marker"
wait_file "$A/reloaded" 30
serial=$(cert_serial "$A/out/web.pem")
[ "$(cat "$A/reloaded")" = "$serial" ] || die "reloaded $(cat "$A/reloaded"), installed $serial"
sleep 4 # one more check: nothing further happens
stop_daemon "$pid"
assert_installed "$A/out/web.pem" "$A/out/web.key" web.test
n=$(cat "$IT_TMP/acme0.log" "$IT_TMP/acme.log" | grep -c '"event":"cert_issued"' || true)
[ "$n" = 1 ] || die "eca-acme: $n certificates issued, want exactly 1"
n=$(cat "$IT_TMP/acme0.log" "$IT_TMP/acme.log" | grep -c '"event":"order_started"' || true)
[ "$n" = 1 ] || die "eca-acme: $n orders, want exactly 1"
n=$(grep -c 'Added order "' "$IT_TMP/pebble.log" || true) # badNonce retries re-POST
[ "$n" = 1 ] || die "pebble saw $n newOrder requests, want exactly 1"
[ "$(wc -l <"$A/attempts")" -ge 5 ] || die "the reload ran $(wc -l <"$A/attempts") times"
"$ECA_ACME" --config "$A/agent.conf" status >"$IT_TMP/acme-status.txt" 2>&1 ||
    die "status after the reload worked: not healthy"
grep -q '^eca-sched 1 0 0 [0-9]* - - -$' "$A/state/web.sched" ||
    die "retry state not cleared: $(head -n 1 "$A/state/web.sched")"

log "eca-acme: verify fails (rolled back); the retry installs the kept pair again, no order"
cp "$A/out/web.pem" "$IT_TMP/served.pem"
cp "$A/out/web.key" "$IT_TMP/served.key"
vport=$(free_port)
bg_start sserver openssl s_server -quiet -accept "127.0.0.1:$vport" \
    -cert "$IT_TMP/served.pem" -key "$IT_TMP/served.key"
spid=$BG_PID
wait_for_port "$vport"
sed -i "s|reload_command = |verify = \"127.0.0.1:$vport\"; verify_timeout_seconds = 1;\n    &|" \
    "$A/agent.conf"
rc=0; run_agent verify1 --config "$A/agent.conf" --once --force || rc=$?
[ "$rc" = 1 ] || die "verify against a stale server: exit $rc, want 1"
grep -q '"event":"rollback_done","cert":"web"' "$IT_TMP/verify1.log" || die "no rollback_done"
[ "$(cert_serial "$A/out/web.pem")" = "$serial" ] || die "old certificate not restored"
new=$(cert_serial "$A/out/web.pem.prev")
grep -q " verify $new\$" "$A/state/web.sched" || die "verify step not persisted"
rc=0; run_agent verify2 --config "$A/agent.conf" --once || rc=$?
[ "$rc" = 1 ] || die "verify again against the stale server: exit $rc, want 1"
grep -q '"event":"deploy_resumed","cert":"web".*"step":"verify"' "$IT_TMP/verify2.log" ||
    die "verify2: no deploy_resumed"
grep -q '"event":"order_started"' "$IT_TMP/verify2.log" && die "verify2 ordered a certificate"
[ "$(cert_serial "$A/out/web.pem")" = "$serial" ] || die "verify2: old certificate not restored"
# The server now serves the kept pair: the retry installs it and verifies.
kill "$spid"
cp "$A/out/web.pem.prev" "$IT_TMP/served.pem"
cp "$A/out/web.key.prev" "$IT_TMP/served.key"
bg_start sserver2 openssl s_server -quiet -accept "127.0.0.1:$vport" \
    -cert "$IT_TMP/served.pem" -key "$IT_TMP/served.key"
wait_for_port "$vport"
run_agent verify3 --config "$A/agent.conf" --once || die "verify3: exit $?"
grep -q '"event":"verify_ok","cert":"web"' "$IT_TMP/verify3.log" || die "verify3: no verify_ok"
grep -q '"event":"order_started"' "$IT_TMP/verify3.log" && die "verify3 ordered a certificate"
[ "$(cert_serial "$A/out/web.pem")" = "$new" ] || die "verify3: the kept pair is not installed"
assert_installed "$A/out/web.pem" "$A/out/web.key" web.test

log "eca-est: reload fails 3 times, then works: one enrollment"
EST_VALIDITY=120 start_est_ca
E=$IT_TMP/est
est_env "$E"
reload_cmd "$E"
export RELOAD_COMMAND="$E/reload.sh $CERT_PATH" CHECK_INTERVAL_SECONDS=3
bg_start est "$ECA_EST"
pid=$BG_PID
wait_runs "$E" 4 60
grep -q '"event":"renew_failed","cert":"edge-client".*"step":"reload"' "$IT_TMP/est.log" ||
    die "eca-est: no renew_failed naming the reload step"
rm -f "$E/marker"
wait_file "$E/reloaded" 30
serial=$(cert_serial "$CERT_PATH")
[ "$(cat "$E/reloaded")" = "$serial" ] || die "reloaded $(cat "$E/reloaded"), installed $serial"
sleep 4
stop_daemon "$pid"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
n=$(grep -c '"event":"cert_issued"' "$IT_TMP/est.log" || true)
[ "$n" = 1 ] || die "eca-est: $n certificates issued, want exactly 1"
n=$(grep -cE '"POST /\.well-known/est/simple(re)?enroll[^"]*" 200' "$IT_TMP/est-ca.log" || true)
[ "$n" = 1 ] || die "the EST CA enrolled $n times, want exactly 1"
"$ECA_EST" status >"$IT_TMP/est-status.txt" 2>&1 || die "eca-est status after the reload worked"
log "PASS"
