#!/bin/bash
# SPDX-License-Identifier: MIT
# Account key rollover (RFC 8555 §7.3.5) and deactivation (§7.3.6) against pebble, under a
# running daemon: `account key-change` replaces account.key (the old one kept as .prev), the
# account URL stays, the daemon's next renewal signs with the new key, and pebble no longer
# knows the old one. A rollover interrupted after the CA's 200 is finished at the next start;
# a stray account.key.new the CA never took is removed. `account deactivate --yes` makes every
# later renewal fail at once with a clear message, without a loop; another key registers anew.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=keychange.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
# Many forced issuances of one certificate on purpose: no weekly issuance budget here.
export ISSUANCE_BUDGET=0
pub() { openssl pkey -in "$1" -pubout; }
count() { grep -c "\"event\":\"$1\"" "$2" || true; }

bg_start daemon "$ECA_ACME"
pid=$BG_PID
dlog=$IT_TMP/daemon.log
for _ in $(seq 300); do grep -q '"event":"cert_installed"' "$dlog" && break; sleep 0.1; done
grep -q '"event":"cert_installed"' "$dlog" || die "daemon did not issue the first certificate"
url1=$(cat "$STATE_DIR/account.url")
key1=$(pub "$STATE_DIR/account.key")

# ---- the command line ----
for args in "account" "account frobnicate" "account key-change --yes" "account deactivate deactivate"; do
    rc=0
    # shellcheck disable=SC2086
    "$ECA_ACME" $args </dev/null >"$IT_TMP/usage.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || die "eca-acme $args: exit $rc, want 2"
done

# ---- the rollover ----
timeout 60 "$ECA_ACME" account key-change </dev/null >"$IT_TMP/kc.log" 2>&1 ||
    die "account key-change exited $?: $(cat "$IT_TMP/kc.log")"
grep -q '"event":"account_key_changed"' "$IT_TMP/kc.log" || die "no account_key_changed event"
key2=$(pub "$STATE_DIR/account.key")
[ "$key2" != "$key1" ] || die "account.key did not change"
[ "$(pub "$STATE_DIR/account.key.prev")" = "$key1" ] || die "account.key.prev is not the old key"
[ ! -e "$STATE_DIR/account.key.new" ] || die "account.key.new left behind"
[ "$(stat -c %a "$STATE_DIR/account.key")" = 600 ] || die "account.key mode $(stat -c %a "$STATE_DIR/account.key")"
[ "$(cat "$STATE_DIR/account.url")" = "$url1" ] || die "the account URL changed: $(cat "$STATE_DIR/account.url")"
log "account key rolled over for $url1"

# The running daemon notices the new key at its next renewal and issues with it.
s1=$(cert_serial "$CERT_PATH")
n0=$(count cert_installed "$dlog")
kill -USR1 "$pid"
for _ in $(seq 300); do
    [ "$(count cert_installed "$dlog")" -gt "$n0" ] && break
    grep -q '"event":"renew_failed"' "$dlog" && break
    sleep 0.1
done
grep -q '"event":"renew_failed"' "$dlog" && die "renewal after the rollover failed: $(grep '"event":"renew_failed"' "$dlog")"
[ "$(count cert_installed "$dlog")" -gt "$n0" ] || die "no renewal after the rollover"
grep -q '"event":"account_key_reloaded"' "$dlog" || die "the daemon did not reload the account key"
grep -q '"event":"acme_account_lost"' "$dlog" && die "the daemon lost its account over the rollover"
assert_installed "$CERT_PATH" "$KEY_PATH" keychange.test
[ "$(cert_serial "$CERT_PATH")" != "$s1" ] || die "serial unchanged"
[ "$(cat "$STATE_DIR/account.url")" = "$url1" ] || die "the account URL changed after the renewal"

# pebble refuses the old key: a lookup (onlyReturnExisting) with it finds no account.
old=$IT_TMP/oldkey
mkdir -p "$old/state"
cp -p "$STATE_DIR/account.key.prev" "$old/state/account.key"
rc=0
STATE_DIR=$old/state timeout 60 "$ECA_ACME" account key-change </dev/null >"$IT_TMP/old.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "key-change with the old key: exit $rc, want 1"
grep -q 'accountDoesNotExist' "$IT_TMP/old.log" || die "the old key was not refused: $(cat "$IT_TMP/old.log")"
log "pebble no longer knows the old key"

# ---- interrupted rollovers, settled at the next start ----
stop_daemon() {
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "daemon still running 5 s after TERM"
    wait "$pid" || die "daemon exited $? after TERM"
}
stop_daemon
# Killed after the CA's 200, before the rename: .new is the CA's key, account.key the old one.
timeout 60 "$ECA_ACME" account key-change </dev/null >"$IT_TMP/kc2.log" 2>&1 || die "second key-change exited $?"
key3=$(pub "$STATE_DIR/account.key")
cp -p "$STATE_DIR/account.key" "$STATE_DIR/account.key.new"
cp -p "$STATE_DIR/account.key.prev" "$STATE_DIR/account.key"
run_agent finish --once --force </dev/null || die "the pass after an interrupted rollover exited $?: $(cat "$IT_TMP/finish.log")"
grep -q '"event":"account_key_rollover_finished"' "$IT_TMP/finish.log" || die "no account_key_rollover_finished"
[ "$(pub "$STATE_DIR/account.key")" = "$key3" ] || die "the confirmed key is not account.key"
[ ! -e "$STATE_DIR/account.key.new" ] || die "account.key.new left behind after finishing"
grep -q '"event":"cert_installed"' "$IT_TMP/finish.log" || die "no issuance after finishing the rollover"
# A .new the CA never took (killed before the request): removed, the key in use stays.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$STATE_DIR/account.key.new" 2>/dev/null
chmod 600 "$STATE_DIR/account.key.new"
run_agent undo --once --force </dev/null || die "the pass with a stray account.key.new exited $?: $(cat "$IT_TMP/undo.log")"
grep -q '"event":"account_key_rollover_undone"' "$IT_TMP/undo.log" || die "no account_key_rollover_undone"
[ ! -e "$STATE_DIR/account.key.new" ] || die "the stray account.key.new was kept"
[ "$(pub "$STATE_DIR/account.key")" = "$key3" ] || die "account.key changed by the undo"
grep -q '"event":"cert_installed"' "$IT_TMP/undo.log" || die "no issuance after the undo"
log "interrupted rollovers settled"

# ---- deactivation ----
rc=0
timeout 60 "$ECA_ACME" account deactivate </dev/null >"$IT_TMP/noyes.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || die "deactivate without --yes: exit $rc, want 2"
[ -s "$STATE_DIR/account.url" ] || die "deactivate without --yes touched account.url"
bg_start daemon2 "$ECA_ACME"
pid=$BG_PID
dlog=$IT_TMP/daemon2.log
for _ in $(seq 100); do grep -q '"event":"agent_started"' "$dlog" && break; sleep 0.1; done
timeout 60 "$ECA_ACME" account deactivate --yes </dev/null >"$IT_TMP/deact.log" 2>&1 ||
    die "account deactivate exited $?: $(cat "$IT_TMP/deact.log")"
grep -q '"event":"account_deactivated"' "$IT_TMP/deact.log" || die "no account_deactivated event"
[ ! -e "$STATE_DIR/account.url" ] || die "account.url still there after deactivation"
# The running daemon: one failed pass with the reason, then the backoff (no loop, no request).
kill -USR1 "$pid"
for _ in $(seq 100); do grep -q '"event":"renew_failed"' "$dlog" && break; sleep 0.1; done
grep '"event":"renew_failed"' "$dlog" | grep -q 'was deactivated' ||
    die "the daemon's failure does not say the account is deactivated: $(grep renew_failed "$dlog")"
sleep 3
[ "$(count renew_failed "$dlog")" = 1 ] || die "the daemon retried at once: $(count renew_failed "$dlog") failures"
stop_daemon
# A fresh start says the same at once.
rc=0
run_agent after --once --force </dev/null || rc=$?
[ "$rc" = 1 ] || die "a pass with the deactivated account: exit $rc, want 1"
grep -q 'was deactivated' "$IT_TMP/after.log" || die "no clear message: $(cat "$IT_TMP/after.log")"
grep '"event":"acme_request"' "$IT_TMP/after.log" | grep -q '"method":"POST"' &&
    die "requests signed for a deactivated account: $(grep '"method":"POST"' "$IT_TMP/after.log")"
# Without our marker (deactivated elsewhere), pebble answers unauthorized, once per pass.
mv "$STATE_DIR/account.deactivated" "$IT_TMP/marker"
rc=0
run_agent ca --once --force </dev/null || rc=$?
[ "$rc" = 1 ] || die "a pass against pebble's deactivated account: exit $rc, want 1"
grep -q 'unauthorized' "$IT_TMP/ca.log" || die "pebble's refusal not reported: $(cat "$IT_TMP/ca.log")"
grep -q 'deactivated' "$IT_TMP/ca.log" || die "pebble's refusal does not say deactivated"
grep -q '"event":"acme_account".*"created":true' "$IT_TMP/ca.log" && die "an account was created behind the user's back"
# Another key: a new account, and issuance again.
mv "$STATE_DIR/account.key" "$IT_TMP/deactivated.key"
mv "$IT_TMP/marker" "$STATE_DIR/account.deactivated"
run_agent fresh --once --force </dev/null || die "a pass with a new account key exited $?: $(cat "$IT_TMP/fresh.log")"
grep -q '"event":"cert_installed"' "$IT_TMP/fresh.log" || die "no issuance with a new account"
[ "$(cat "$STATE_DIR/account.url")" != "$url1" ] || die "the new key reused the deactivated account"
[ ! -e "$STATE_DIR/account.deactivated" ] || die "the stale deactivation marker stayed"
assert_installed "$CERT_PATH" "$KEY_PATH" keychange.test
log "PASS"
