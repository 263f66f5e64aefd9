#!/bin/bash
# SPDX-License-Identifier: MIT
# Renewal: --force (new serial, new key, .prev kept), the lifetime threshold, and the daemon
# loop: SIGUSR1 forces a renewal, SIGHUP re-reads the configuration, SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble --validity 120

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=renew.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
run_agent first --once || die "first run exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" renew.test
s1=$(cert_serial "$CERT_PATH")
k1=$(openssl pkey -in "$KEY_PATH" -pubout)

run_agent forced --once --force || die "forced run exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" renew.test
s2=$(cert_serial "$CERT_PATH")
[ "$s1" != "$s2" ] || die "--force kept serial $s1"
[ "$k1" != "$(openssl pkey -in "$KEY_PATH" -pubout)" ] || die "--force kept the key"
[ "$(cert_serial "$CERT_PATH.prev")" = "$s1" ] || die "previous certificate not kept as .prev"
grep -q '"reason":"forced"' "$IT_TMP/forced.log" || die "no forced reason logged"

# 99% threshold on a 120 s certificate: due after ~1.2 s.
sleep 2
RENEWAL_THRESHOLD_PERCENT=99 run_agent threshold --once || die "threshold run exited $?"
s3=$(cert_serial "$CERT_PATH")
[ "$s3" != "$s2" ] || die "threshold did not renew"
grep -q '"reason":"threshold"' "$IT_TMP/threshold.log" || die "no threshold reason logged"

# Daemon: nothing due, USR1 forces one renewal, TERM stops with exit 0.
bg_start daemon "$ECA_ACME"
pid=$BG_PID
for _ in $(seq 100); do grep -q '"event":"cert_checked"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
grep -q '"event":"cert_checked"' "$IT_TMP/daemon.log" || die "daemon did not check"
kill -USR1 "$pid"
for _ in $(seq 300); do grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" || die "USR1 did not renew"
[ "$(cert_serial "$CERT_PATH")" != "$s3" ] || die "USR1 kept the serial"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q '"event":"config_reloaded"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
grep -q '"event":"config_reloaded"' "$IT_TMP/daemon.log" || die "HUP did not reload the configuration"
kill -TERM "$pid"
rc=0
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "daemon still running 5 s after TERM"
wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
grep -q '"event":"agent_stopped"' "$IT_TMP/daemon.log" || die "no agent_stopped event"
log "PASS"
