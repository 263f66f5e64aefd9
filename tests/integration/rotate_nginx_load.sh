#!/bin/bash
# SPDX-License-Identifier: MIT
# Zero downtime under load: nginx serves HTTPS with eca-acme's certificate while a client loop
# makes fresh TLS connections without pause; the eca-acme daemon is forced (SIGUSR1) to renew
# ROTATIONS times, reloading nginx with `nginx -s reload`. Every request must succeed and the
# served serial must change at every rotation. The agent verifies each reload (verify = the
# nginx port); at the end a reload that does nothing (reload_command "true") must fail that
# verification and put the previous pair back, still without a failed request. `status
# --json` and STATE_DIR/status.json must name the installed serial.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_rotate.sh"
it_init
snapshot_bins
ROTATIONS=${ROTATIONS:-20}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
command -v nginx >/dev/null || die "nginx not installed (scripts/deps.sh)"
start_pebble
NAME=web.rotate.test
D=$IT_TMP/acme
mkdir -p "$D/out" "$D/state" "$IT_TMP/nginx/www"
HTTPS_PORT=$(free_port)
NGINX_CONF=$IT_TMP/nginx/nginx.conf
RELOAD="nginx -q -s reload -c $NGINX_CONF -e $IT_TMP/nginx/error.log"

# acme_conf RELOAD_LINE: the agent's configuration file, with or without a reload action.
acme_conf() {
    cat <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$D/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
log_level = "debug";
issuance_budget = 0; # forced rotations on purpose, more than a week's budget
certificates = (
  {
    name = "web";
    domains = [ "$NAME" ];
    cert_path = "$D/out/cert.pem";
    key_path = "$D/out/key.pem";
    $1
    reload_timeout_seconds = 20;
  }
);
CONF
}
acme_conf "" >"$D/first.conf"
VERIFY_LINE="verify = \"127.0.0.1:$HTTPS_PORT\"; verify_name = \"$NAME\"; verify_timeout_seconds = 5;"
acme_conf "reload_command = \"$RELOAD\"; $VERIFY_LINE" >"$D/eca-acme.conf"
clean_agent_env

log "first issuance (--once, no reload action: nginx is not running yet)"
timeout 120 "$ECA_ACME" --config "$D/first.conf" --once >"$IT_TMP/acme-first.log" 2>&1 ||
    die "first issuance failed"
pair_matches "$D/out/cert.pem" "$D/out/key.pem" || die "first pair does not match"

start_tls_nginx "$NGINX_CONF" "$NAME" "$HTTPS_PORT" "$D/out/cert.pem" "$D/out/key.pem" 256
s0=$(leaf_serial "$D/out/cert.pem")
wait_served "$HTTPS_PORT" "$NAME" "$s0" 10 || die "nginx does not serve the issued certificate"

log "client loop: fresh TLS connection per request (curl --cacert pebble root)"
CLIENT_LOG=$IT_TMP/client.out
STOP_FILE=$IT_TMP/client.stop
client_loop() {
    local rc
    while [ ! -e "$STOP_FILE" ]; do
        rc=0
        curl -sS --max-time 5 --cacert "$PEBBLE_ROOT" --resolve "$NAME:$HTTPS_PORT:127.0.0.1" \
            -o /dev/null -w '%{http_code}' "https://$NAME:$HTTPS_PORT/" >"$IT_TMP/client.code" \
            2>>"$IT_TMP/client-err.log" || rc=$?
        echo "$(now_ms) rc=$rc code=$(cat "$IT_TMP/client.code" 2>/dev/null)" >>"$CLIENT_LOG"
    done
}
bg_start client client_loop
CLIENT_PID=$BG_PID

bg_start acme-daemon "$ECA_ACME" --config "$D/eca-acme.conf"
AGENT_PID=$BG_PID
wait_log "$IT_TMP/acme-daemon.log" '"event":"cert_checked"' 20 || die "daemon did not check"
sleep 1
[ "$(leaf_serial "$D/out/cert.pem")" = "$s0" ] || die "the daemon renewed a fresh certificate"

served=("$s0")
prev=$s0
for i in $(seq "$ROTATIONS"); do
    alive "$AGENT_PID" || die "eca-acme daemon died before rotation $i"
    t0=$(now_ms)
    kill -USR1 "$AGENT_PID"
    new=$(wait_serial_change "$D/out/cert.pem" "$prev" 60) || die "rotation $i: no new certificate"
    pair_matches "$D/out/cert.pem" "$D/out/key.pem" || die "rotation $i: installed pair mismatch"
    wait_served "$HTTPS_PORT" "$NAME" "$new" 20 || die "rotation $i: nginx still serves old serial"
    for s in "${served[@]}"; do [ "$s" != "$new" ] || die "rotation $i: serial $new served before"; done
    served+=("$new")
    prev=$new
    # the pass ends with the agent's own check of the served certificate
    for _ in $(seq 200); do
        [ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"verify_ok"')" -ge "$i" ] && break
        grep -q '"event":"renew_failed"' "$IT_TMP/acme-daemon.log" && break
        sleep 0.1
    done
    [ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"verify_ok"')" -ge "$i" ] ||
        die "rotation $i: the agent did not verify the served certificate (verify_ok)"
    log "rotation $i: serial $new served after $(($(now_ms) - t0)) ms"
done
grep -q '"event":"renew_failed"' "$IT_TMP/acme-daemon.log" && die "a renewal failed"
n=$(count_log "$IT_TMP/acme-daemon.log" '"event":"verify_ok"')
[ "$n" -ge "$ROTATIONS" ] || die "verify_ok logged $n times, want >= $ROTATIONS"

log "status --json and STATE_DIR/status.json name the installed serial"
# json_serial FILE: the serial of certificate "web" in a status document.
json_serial() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print([c for c in d["certificates"] if c["name"] == "web"][0]["serial"].replace(":", "").lower())' "$1"
}
timeout 20 "$ECA_ACME" --config "$D/eca-acme.conf" status --json >"$IT_TMP/status.json" \
    2>"$IT_TMP/status-err.log" || die "status --json failed"
[ "$(json_serial "$IT_TMP/status.json")" = "$prev" ] || die "status --json: wrong serial"
[ -s "$D/state/status.json" ] || die "no status file $D/state/status.json"
[ "$(json_serial "$D/state/status.json")" = "$prev" ] || die "status.json: wrong serial"

log "verification: a reload that does not take effect is rolled back to .prev"
acme_conf "reload_command = \"true\"; $VERIFY_LINE" >"$D/eca-acme.conf.new"
mv "$D/eca-acme.conf.new" "$D/eca-acme.conf"
c0=$(count_log "$IT_TMP/acme-daemon.log" '"event":"config_reloaded"')
kill -HUP "$AGENT_PID"
for _ in $(seq 100); do
    [ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"config_reloaded"')" -gt "$c0" ] && break
    sleep 0.1
done
[ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"config_reloaded"')" -gt "$c0" ] ||
    die "HUP did not reload the agent's configuration"
i0=$(count_log "$IT_TMP/acme-daemon.log" '"event":"cert_installed"')
kill -USR1 "$AGENT_PID"
wait_log "$IT_TMP/acme-daemon.log" '"event":"rollback_done"' 60 ||
    die "no rollback_done after a reload that did not take effect"
[ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"cert_installed"')" -gt "$i0" ] ||
    die "no new certificate was installed before the rollback"
grep -q '"event":"verify_failed"' "$IT_TMP/acme-daemon.log" || die "no verify_failed event"
[ "$(leaf_serial "$D/out/cert.pem")" = "$prev" ] || die "rollback did not restore serial $prev"
pair_matches "$D/out/cert.pem" "$D/out/key.pem" || die "rolled-back pair does not match"
[ "$(served_serial "$HTTPS_PORT" "$NAME")" = "$prev" ] || die "nginx no longer serves $prev"
alive "$AGENT_PID" || die "the agent died after a failed verification"

sleep 1
touch "$STOP_FILE"
for _ in $(seq 100); do alive "$CLIENT_PID" || break; sleep 0.1; done

total=$(wc -l <"$CLIENT_LOG")
bad=$(grep -vc ' rc=0 code=200$' "$CLIENT_LOG" || true)
log "client: $total requests, $bad failed, across ${#served[@]} served serials"
[ "$total" -ge $((ROTATIONS * 5)) ] || die "client loop made only $total requests"
if [ "$bad" != 0 ]; then
    grep -v ' rc=0 code=200$' "$CLIENT_LOG" | head -n 5 >&2
    head -n 5 "$IT_TMP/client-err.log" >&2 || true
    die "$bad of $total requests failed during rotation"
fi
[ "${#served[@]}" = $((ROTATIONS + 1)) ] || die "served ${#served[@]} serials, want $((ROTATIONS + 1))"
n=$(count_log "$IT_TMP/acme-daemon.log" '"event":"reload_done"')
[ "$n" -ge "$ROTATIONS" ] || die "reload_done logged $n times, want >= $ROTATIONS"
stop_pid "$AGENT_PID" 10 || die "eca-acme did not stop on TERM"
log "PASS"
