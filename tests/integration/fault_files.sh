#!/bin/bash
# SPDX-License-Identifier: MIT
# One bad file jams nothing: a FIFO at KEY_PATH (both agents: a clear error in bounded time,
# never a hang; the daemon keeps serving the other certificate, `status` answers, SIGTERM
# works), a directory at KEY_PATH with a journal that cannot roll forward (that certificate
# fails alone, naming what to remove; the others are served; once removed, it is installed),
# and kill -9 at random points followed by a start that leaves no temporary or staged file.
. "$(dirname "$0")/lib.sh"
it_init
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_pebble

d=$IT_TMP/agent
mkdir -p "$d/out" "$d/state"
conf=$d/agent.conf
cat >"$conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state";
# The kill -9 trials force a dozen issuances of one certificate: no weekly budget here.
issuance_budget = 0;
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
log_level = "debug";
certificates = (
  { name = "good"; domains = [ "good.test" ];
    cert_path = "$d/out/good.pem"; key_path = "$d/out/good.key"; },
  { name = "jam"; domains = [ "jam.test" ];
    cert_path = "$d/out/jam.pem"; key_path = "$d/out/jam.key"; }
);
CONF

# ---- 1. A FIFO at KEY_PATH: eca-acme daemon ----
mkfifo "$d/out/jam.key"
bg_start fifo "$ECA_ACME" --config "$conf"
pid=$BG_PID
for _ in $(seq 300); do grep -q '"event":"cert_installed","cert":"good"' "$IT_TMP/fifo.log" && break; sleep 0.1; done
grep -q '"event":"cert_installed","cert":"good"' "$IT_TMP/fifo.log" ||
    die "FIFO at jam's KEY_PATH: good was not installed"
for _ in $(seq 100); do grep -q '"event":"renew_failed","cert":"jam"' "$IT_TMP/fifo.log" && break; sleep 0.1; done
grep '"event":"renew_failed","cert":"jam"' "$IT_TMP/fifo.log" |
    grep -q 'jam.key: is a FIFO (named pipe), not a regular file' ||
    die "FIFO: no clear error for jam: $(grep '"cert":"jam"' "$IT_TMP/fifo.log" | tail -2)"
grep -q '"event":"order_started","cert":"jam"' "$IT_TMP/fifo.log" && die "FIFO: jam was ordered anyway"
assert_installed "$d/out/good.pem" "$d/out/good.key" good.test
# The per-host jitter seed, created at first start, private.
[ "$(stat -c %a "$d/state/host.seed")" = 600 ] || die "host.seed missing or not 0600"
grep -qxE '[0-9a-f]{8}' "$d/state/host.seed" || die "host.seed is not a seed"
rc=0
timeout 10 "$ECA_ACME" --config "$conf" status </dev/null >"$IT_TMP/status-fifo.txt" 2>&1 || rc=$?
[ "$rc" != 124 ] || die "status hung on the FIFO"
grep -q "good" "$IT_TMP/status-fifo.txt" || die "status does not list good"
t0=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "FIFO: daemon still running 5 s after TERM"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "FIFO: daemon exited $rc after TERM"
log "FIFO (eca-acme): clear error, good served, status answered, TERM in $((($(date +%s%N) - t0) / 1000000)) ms"

# ---- 1b. A FIFO at KEY_PATH: eca-est --once, bounded, clear error (no CA needed to see it) ----
e=$IT_TMP/est
mkdir -p "$e/out"
mkfifo "$e/out/key.pem"
rc=0
env -i PATH="$PATH" CA_URL="https://127.0.0.1:$(free_port)/.well-known/est" STATE_DIR="$e/state" \
    SUBJECT_DN="CN=fifo" CERT_PATH="$e/out/cert.pem" KEY_PATH="$e/out/key.pem" \
    EST_USERNAME=u BOOTSTRAP_TOKEN=t \
    timeout 20 "$ECA_EST" --once </dev/null >"$IT_TMP/est-fifo.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || die "eca-est hung on a FIFO at KEY_PATH"
[ "$rc" != 0 ] || die "eca-est: FIFO at KEY_PATH, exit 0"
grep -q 'key.pem: is a FIFO (named pipe), not a regular file' "$IT_TMP/est-fifo.log" ||
    die "eca-est: no clear FIFO error: $(tail -3 "$IT_TMP/est-fifo.log")"
log "FIFO (eca-est): exit $rc with a clear error"

# ---- 1c. A FIFO at a token path: eca-est's bootstrap token, eca-acme's EAB key ----
mkfifo "$e/token" "$e/eab"
rc=0
env -i PATH="$PATH" CA_URL="https://127.0.0.1:$(free_port)/.well-known/est" STATE_DIR="$e/state2" \
    SUBJECT_DN="CN=fifo" CERT_PATH="$e/out/c2.pem" KEY_PATH="$e/out/k2.pem" \
    EST_USERNAME=u BOOTSTRAP_TOKEN_FILE="$e/token" \
    timeout 20 "$ECA_EST" --once </dev/null >"$IT_TMP/est-token.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || die "eca-est hung on a FIFO token file"
grep -q 'token: is a FIFO (named pipe), not a regular file' "$IT_TMP/est-token.log" ||
    die "eca-est: no clear error for a FIFO token file: $(tail -2 "$IT_TMP/est-token.log")"
rc=0
env -i PATH="$PATH" CA_URL="$PEBBLE_DIR_URL" CA_BUNDLE="$PEBBLE_TLS_CA" STATE_DIR="$e/state3" \
    DOMAIN_NAME=eab.test CERT_PATH="$e/out/c3.pem" KEY_PATH="$e/out/k3.pem" EAB_KID=kid \
    EAB_HMAC_KEY_FILE="$e/eab" HTTP01_LISTEN="127.0.0.1:$(free_port)" \
    timeout 20 "$ECA_ACME" --once </dev/null >"$IT_TMP/acme-eab.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || die "eca-acme hung on a FIFO EAB key file"
# Refused before any request (the configuration check) or when it is read: a clear error.
grep -qE 'eab: is a FIFO \(named pipe\), not a regular file|EAB_HMAC_KEY_FILE: .*/eab is not a regular file' \
    "$IT_TMP/acme-eab.log" ||
    die "eca-acme: no clear error for a FIFO EAB key file: $(tail -2 "$IT_TMP/acme-eab.log")"
log "FIFO token files: clear errors, no hang"

# ---- 2. A directory at KEY_PATH, and a journal (left by a crash) that lists it ----
rm -f "$d/out/jam.key"
mkdir "$d/out/jam.key"
printf 'staged key\n' >"$d/out/jam.key.new"
printf 'staged cert\n' >"$d/out/jam.pem.new"
printf '%s\n%s\n' "$d/out/jam.key" "$d/out/jam.pem" >"$d/state/jam.journal"
good_before=$(sha256sum "$d/out/good.pem" "$d/out/good.key")
rc=0
run_agent dir --config "$conf" --once </dev/null || rc=$?
[ "$rc" = 1 ] || die "directory at KEY_PATH: exit $rc, want 1 (one certificate failing)"
grep -q '"event":"install_recover_failed","cert":"jam"' "$IT_TMP/dir.log" ||
    die "directory: no install_recover_failed for jam"
grep '"cert":"jam"' "$IT_TMP/dir.log" | grep -q "jam.key: is a directory, not a regular file.*remove it" ||
    die "directory: the error does not say what to remove"
grep '"event":"cert_checked","cert":"good"' "$IT_TMP/dir.log" >/dev/null || die "directory: good not checked"
[ "$(sha256sum "$d/out/good.pem" "$d/out/good.key")" = "$good_before" ] || die "directory: good changed"
rc=0
timeout 10 "$ECA_ACME" --config "$conf" status </dev/null >"$IT_TMP/status-dir.txt" 2>&1 || rc=$?
[ "$rc" != 124 ] || die "status hung"
grep -q "good" "$IT_TMP/status-dir.txt" || die "status blocked by jam's journal: $(cat "$IT_TMP/status-dir.txt")"
# The operator removes what the message names: the journal rolls forward, then jam renews.
rmdir "$d/out/jam.key"
rc=0
run_agent fixed --config "$conf" --once </dev/null || rc=$?
[ "$rc" = 0 ] || die "after removing the directory: exit $rc"
grep -q '"event":"install_recovered","cert":"jam"' "$IT_TMP/fixed.log" || die "journal not rolled forward"
assert_installed "$d/out/jam.pem" "$d/out/jam.key" jam.test
[ ! -e "$d/state/jam.journal" ] || die "journal left"
log "directory at KEY_PATH: jam failed alone with what to remove; fixed by removing it"

# ---- 3. kill -9 at random points, then a start that leaves nothing behind ----
no_leftovers() {
    local left
    left=$(find "$d/out" "$d/state" -name '.*.tmp-*' -o -name '*.new' -o -name '*.journal' | sort)
    [ -z "$left" ] || die "$1: left behind: $left"
}
# Measure one forced run, then kill runs at random points within it.
t0=$(date +%s%N)
run_agent measure --config "$conf" --once --force </dev/null || die "measured run failed"
dur=$((($(date +%s%N) - t0) / 1000000))
for i in $(seq 8); do
    delay=$((RANDOM % (dur + 1)))
    "$ECA_ACME" --config "$conf" --once --force </dev/null >>"$IT_TMP/kill.log" 2>&1 &
    kpid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$kpid" 2>/dev/null || true
    wait "$kpid" 2>/dev/null || true
    # What a kill -9 can leave, whether or not this one hit it: old temp copies of a key, a
    # staged file, state temp files. The crash happened a while ago (older than the 60 s a
    # writer at work is given), so the next start owes them nothing.
    : >"$d/out/.good.key.prev.tmp-0123456789abcdef"
    : >"$d/out/.jam.pem.tmp-fedcba9876543210"
    : >"$d/state/.good.sched.tmp-00112233445566aa"
    [ -e "$d/state/good.journal" ] || : >"$d/out/good.pem.new"
    find "$d/out" "$d/state" \( -name '.*.tmp-*' -o -name '*.new' \) -exec touch -d '2 hours ago' {} +
    rc=0
    run_agent "restart$i" --config "$conf" --once </dev/null || rc=$?
    [ "$rc" = 0 ] || die "trial $i (kill at $delay ms of $dur): restart exited $rc"
    no_leftovers "trial $i (kill at $delay ms)"
    assert_installed "$d/out/good.pem" "$d/out/good.key" good.test
    grep -q '"event":"stale_files_removed"' "$IT_TMP/restart$i.log" || die "trial $i: no sweep logged"
done
log "kill -9: 8 trials, each restart left no temporary, staged or journal file"
log "PASS"
