#!/bin/bash
# SPDX-License-Identifier: MIT
# A CA that forgets every account (pebble restarted on the same ports, like a CA database
# restore or `docker compose down`/`up`) under a running eca-acme daemon: the next forced pass
# gets accountDoesNotExist for the stored account URL, recovers the account for the same key,
# issues in the same pass, and stores the new account URL.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=lost.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
bg_start daemon "$ECA_ACME"
pid=$BG_PID
for _ in $(seq 300); do grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" && break; sleep 0.1; done
grep -q '"event":"cert_installed"' "$IT_TMP/daemon.log" || die "daemon did not issue the first certificate"
assert_installed "$CERT_PATH" "$KEY_PATH" lost.test
s1=$(cert_serial "$CERT_PATH")
url1=$(cat "$STATE_DIR/account.url")
akey=$(openssl pkey -in "$STATE_DIR/account.key" -pubout)

# Restart pebble with its own command line (same ports, same TLS certificate): it forgets
# every account, order and its issuing root.
ppid=$(cat "$IT_TMP/pebble.pid")
mapfile -d '' pcmd <"/proc/$ppid/cmdline"
bg_stop pebble
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=${PEBBLE_NONCEREJECT:-20} PEBBLE_AUTHZREUSE=0 \
    bg_start pebble2 "${pcmd[@]}"
pport=${PEBBLE_DIR_URL#https://127.0.0.1:}
wait_for_port "${pport%%/*}" 30
for _ in $(seq 100); do
    curl -sf --max-time 2 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_DIR_URL" >/dev/null && break
    sleep 0.1
done
curl -sSf --max-time 10 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/roots/0" -o "$PEBBLE_ROOT" ||
    die "cannot fetch the restarted pebble's root"
log "pebble restarted (pid $BG_PID)"

n0=$(grep -c '"event":"cert_installed"' "$IT_TMP/daemon.log")
kill -USR1 "$pid"
for _ in $(seq 300); do
    [ "$(grep -c '"event":"cert_installed"' "$IT_TMP/daemon.log")" -gt "$n0" ] && break
    grep -q '"event":"renew_failed"' "$IT_TMP/daemon.log" && break
    sleep 0.1
done
grep -q '"event":"renew_failed"' "$IT_TMP/daemon.log" &&
    die "the pass after the CA restart failed: $(grep '"event":"renew_failed"' "$IT_TMP/daemon.log")"
[ "$(grep -c '"event":"cert_installed"' "$IT_TMP/daemon.log")" -gt "$n0" ] ||
    die "no certificate installed after the CA restart"
grep -q '"event":"acme_account_lost"' "$IT_TMP/daemon.log" || die "no acme_account_lost event"
grep -q '"event":"acme_account_recovered"' "$IT_TMP/daemon.log" || die "no acme_account_recovered event"
# Verified against the restarted pebble's root: issued after the restart.
assert_installed "$CERT_PATH" "$KEY_PATH" lost.test
[ "$(cert_serial "$CERT_PATH")" != "$s1" ] || die "serial unchanged"
[ "$(openssl pkey -in "$STATE_DIR/account.key" -pubout)" = "$akey" ] || die "account key replaced"
url2=$(cat "$STATE_DIR/account.url")
grep -q "\"account\":\"$url2\"" "$IT_TMP/daemon.log" || die "account.url ($url2) is not the recovered account"
log "account $url1 lost, recovered as $url2"

kill -TERM "$pid"
rc=0
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "daemon still running 5 s after TERM"
wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "daemon exited $rc after TERM"
log "PASS"
