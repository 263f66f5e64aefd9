#!/bin/bash
# SPDX-License-Identifier: MIT
# Zero downtime for MQTT: Mosquitto with TLS and require_certificate true. Its server
# certificate comes from eca-acme (pebble), clients' certificates from eca-est (demo EST CA).
# A subscriber stays connected throughout; both daemons are forced (SIGUSR1) to rotate; after
# each client rotation the publisher reconnects with the new certificate. No message is lost:
# what was sent is received, in order, and the subscriber never reconnects. eca-acme verifies
# each broker reload (verify = the broker port: in TLS 1.3 the probe has the server's
# certificate before the broker rejects its missing client certificate).
#
# Mosquitto 2.0.11 (Debian 12), checked by hand and asserted below for the server certificate:
# SIGHUP re-reads certfile/keyfile (new connections get the new server certificate, existing
# connections stay up), but it does NOT re-read cafile: a client certificate from a new CA is
# refused until the broker restarts. So eca-acme reloads the broker with a signal to its pid
# file (reload_signal = "HUP"); a CA change (not made here: the EST CA stays the same) would
# need a restart as the reload command.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_rotate.sh"
it_init
snapshot_bins
ROUNDS=${ROUNDS:-10}   # client rotations; the server certificate rotates every other round
PER_ROUND=${PER_ROUND:-10}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
command -v mosquitto >/dev/null || die "mosquitto not installed (scripts/deps.sh)"
clean_agent_env
start_pebble
start_est_ca

MQ_PORT=$(free_port)
MQ_PID_FILE=$IT_TMP/mosquitto.pid # written by bg_start: the broker runs in the foreground
S=$IT_TMP/server
mkdir -p "$S/out"
# acme_conf RELOAD_LINES: the broker's certificate (name localhost: clients check the name).
acme_conf() {
    cat <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$S/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
log_level = "debug";
issuance_budget = 0; # forced rotations on purpose, more than a week's budget
certificates = ( {
    name = "mqtt-server";
    domains = [ "localhost" ];
    cert_path = "$S/out/cert.pem";
    key_path = "$S/out/key.pem";
    $1
} );
CONF
}
acme_conf "" >"$S/first.conf"
acme_conf "reload_signal = \"HUP\"; reload_pid_file = \"$MQ_PID_FILE\";
    verify = \"127.0.0.1:$MQ_PORT\"; verify_name = \"localhost\"; verify_timeout_seconds = 5;" \
    >"$S/agent.conf"

# est_conf DIR NAME CN: one client certificate under DIR.
est_conf() {
    mkdir -p "$1/out"
    cat >"$1/agent.conf" <<CONF
ca_url = "$EST_BASE";
ca_bundle = "$EST_ROOT";
state_dir = "$1/state";
est_username = "$EST_USER";
bootstrap_token_file = "$EST_TOKEN_FILE";
crl_enabled = false;
log_level = "debug";
certificates = ( {
    name = "$2";
    subject_dn = "CN=$3,O=Example";
    cert_path = "$1/out/cert.pem";
    key_path = "$1/out/key.pem";
    ca_certs_path = "$1/out/ca.pem";
} );
CONF
}
SUB=$IT_TMP/sub PUB=$IT_TMP/pub
est_conf "$SUB" sub rotate-sub
est_conf "$PUB" pub rotate-pub

log "first issuance: broker certificate (eca-acme), two client certificates (eca-est)"
timeout 120 "$ECA_ACME" --config "$S/first.conf" --once >"$IT_TMP/acme-first.log" 2>&1 ||
    die "eca-acme first issuance failed"
timeout 60 "$ECA_EST" --config "$SUB/agent.conf" --once >"$IT_TMP/est-sub.log" 2>&1 ||
    die "eca-est enrollment (subscriber) failed"
timeout 60 "$ECA_EST" --config "$PUB/agent.conf" --once >"$IT_TMP/est-pub-first.log" 2>&1 ||
    die "eca-est enrollment (publisher) failed"
for p in "$S" "$SUB" "$PUB"; do
    pair_matches "$p/out/cert.pem" "$p/out/key.pem" || die "$p: pair does not match"
done
# The subscriber keeps the certificate it connected with, whatever happens later.
cp "$SUB/out/cert.pem" "$IT_TMP/sub.pem"
cp "$SUB/out/key.pem" "$IT_TMP/sub.key"

cat >"$IT_TMP/mosquitto.conf" <<CONF
user $(id -un)
persistence false
log_dest stderr
log_type all
connection_messages true
listener $MQ_PORT 127.0.0.1
cafile $SUB/out/ca.pem
certfile $S/out/cert.pem
keyfile $S/out/key.pem
require_certificate true
use_identity_as_username true
allow_anonymous false
CONF
bg_start mosquitto mosquitto -c "$IT_TMP/mosquitto.conf"
wait_for_port "$MQ_PORT" 20
PROBE=(-cert "$IT_TMP/sub.pem" -key "$IT_TMP/sub.key")
srv0=$(leaf_serial "$S/out/cert.pem")
wait_served "$MQ_PORT" localhost "$srv0" 10 "${PROBE[@]}" || die "broker does not serve its cert"

TLS=(-h localhost -p "$MQ_PORT" --cafile "$PEBBLE_ROOT" -q 1)
bg_start sub mosquitto_sub "${TLS[@]}" --cert "$IT_TMP/sub.pem" --key "$IT_TMP/sub.key" \
    -i rotate-sub -t eca/rotate -k 30
SUB_PID=$BG_PID
wait_log "$IT_TMP/mosquitto.log" 'as rotate-sub' 10 || die "subscriber did not connect"

bg_start acme-daemon "$ECA_ACME" --config "$S/agent.conf"
ACME_PID=$BG_PID
bg_start est-daemon "$ECA_EST" --config "$PUB/agent.conf"
EST_PID=$BG_PID
wait_log "$IT_TMP/acme-daemon.log" '"event":"cert_checked"' 20 || die "eca-acme did not check"
wait_log "$IT_TMP/est-daemon.log" '"event":"cert_checked"' 20 || die "eca-est did not check"

sent=0
srv_prev=$srv0
pub_prev=$(leaf_serial "$PUB/out/cert.pem")
srv_rotations=0
for r in $(seq "$ROUNDS"); do
    alive "$SUB_PID" || die "round $r: the subscriber exited"
    if [ $((r % 2)) = 0 ]; then
        kill -USR1 "$ACME_PID"
        srv_new=$(wait_serial_change "$S/out/cert.pem" "$srv_prev" 60) ||
            die "round $r: eca-acme did not renew the broker certificate"
        pair_matches "$S/out/cert.pem" "$S/out/key.pem" || die "round $r: broker pair mismatch"
        wait_served "$MQ_PORT" localhost "$srv_new" 20 "${PROBE[@]}" ||
            die "round $r: the broker still serves the old certificate after HUP"
        srv_prev=$srv_new
        srv_rotations=$((srv_rotations + 1))
        for _ in $(seq 100); do
            [ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"verify_ok"')" -ge "$srv_rotations" ] &&
                break
            sleep 0.1
        done
        [ "$(count_log "$IT_TMP/acme-daemon.log" '"event":"verify_ok"')" -ge "$srv_rotations" ] ||
            die "round $r: eca-acme did not verify the broker's new certificate (verify_ok)"
    fi
    kill -USR1 "$EST_PID"
    pub_new=$(wait_serial_change "$PUB/out/cert.pem" "$pub_prev" 60) ||
        die "round $r: eca-est did not renew the publisher certificate"
    pair_matches "$PUB/out/cert.pem" "$PUB/out/key.pem" || die "round $r: client pair mismatch"
    pub_prev=$pub_new
    # A new connection with the new certificate (snapshot: the daemon may not touch it mid-use).
    cp "$PUB/out/cert.pem" "$IT_TMP/pub-$r.pem"
    cp "$PUB/out/key.pem" "$IT_TMP/pub-$r.key"
    seq $((sent + 1)) $((sent + PER_ROUND)) | sed 's/^/msg-/' >"$IT_TMP/round-$r.txt"
    timeout 20 mosquitto_pub "${TLS[@]}" --cert "$IT_TMP/pub-$r.pem" --key "$IT_TMP/pub-$r.key" \
        -i "rotate-pub-$r" -t eca/rotate -l <"$IT_TMP/round-$r.txt" >"$IT_TMP/pub-$r.log" 2>&1 ||
        die "round $r: publishing with the renewed client certificate $pub_new failed"
    sent=$((sent + PER_ROUND))
    log "round $r: client serial $pub_new, broker serial $srv_prev, $sent sent"
done

for _ in $(seq 100); do
    [ "$(wc -l <"$IT_TMP/sub.log")" -ge "$sent" ] && break
    sleep 0.1
done
seq 1 "$sent" | sed 's/^/msg-/' >"$IT_TMP/expected.txt"
got=$(wc -l <"$IT_TMP/sub.log")
[ "$got" = "$sent" ] || die "sent $sent messages, the subscriber received $got"
cmp -s "$IT_TMP/expected.txt" "$IT_TMP/sub.log" || die "messages out of order or altered"
alive "$SUB_PID" || die "the subscriber exited"
n=$(count_log "$IT_TMP/mosquitto.log" 'as rotate-sub')
[ "$n" = 1 ] || die "the subscriber connected $n times: it did not stay connected"
if grep -E 'Client rotate-sub (disconnected|closed)|Socket error on client rotate-sub' \
    "$IT_TMP/mosquitto.log" >&2; then
    die "the subscriber was disconnected"
fi
[ "$srv_rotations" = $((ROUNDS / 2)) ] || die "broker certificate rotated $srv_rotations times"
grep -q '"event":"renew_failed"' "$IT_TMP/acme-daemon.log" "$IT_TMP/est-daemon.log" &&
    die "a renewal failed"
log "$sent messages sent and received in order over $ROUNDS client and $srv_rotations broker rotations"
stop_pid "$ACME_PID" 10 || die "eca-acme did not stop on TERM"
stop_pid "$EST_PID" 10 || die "eca-est did not stop on TERM"
log "PASS"
