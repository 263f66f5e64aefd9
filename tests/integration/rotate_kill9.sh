#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 at random moments during renewal: eca-acme (pebble) and eca-est (demo EST CA) run
# `--once --force` and are killed with SIGKILL after a random delay within one renewal's
# duration (half the trials aimed at the end of the run, where the install happens). After
# each kill the installed certificate and key must match; the next run must complete the
# renewal: exit 0, a new serial, the pair matching, no journal and no staged .new file left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_rotate.sh"
it_init
snapshot_bins
ACME_WORKERS=${ACME_WORKERS:-2}
ACME_TRIALS=${ACME_TRIALS:-30} # per worker: 60 trials with two workers
EST_TRIALS=${EST_TRIALS:-50}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"

# Workers run as subshells: the agent each is running is listed in $IT_TMP/*.cur so that the
# exit trap kills it by PID too.
kill_current() {
    local f pid
    for f in "$IT_TMP"/*.cur; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null) || continue
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
}
trap 'rc=$?; kill_current; it_cleanup "$rc"' EXIT
clean_agent_env

start_pebble
start_est_ca
# Two eca-acme workers at once: http-01 through a webroot served on pebble's http-01 port,
# so that no two agents compete for a listening socket.
mkdir -p "$IT_TMP/webroot"
bg_start webroot python3 -m http.server --bind 127.0.0.1 --directory "$IT_TMP/webroot" \
    "$PEBBLE_HTTP01_PORT"
wait_for_port "$PEBBLE_HTTP01_PORT" 20

for w in $(seq "$ACME_WORKERS"); do
    d=$IT_TMP/acme$w
    mkdir -p "$d/out"
    cat >"$d/agent.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state";
webroot = "$IT_TMP/webroot";
log_level = "info";
issuance_budget = 0; # dozens of forced renewals on purpose
certificates = ( {
    name = "k$w";
    domains = [ "k$w.kill.test" ];
    cert_path = "$d/out/cert.pem";
    key_path = "$d/out/key.pem";
    chain_path = "$d/out/chain.pem";
} );
CONF
done
d=$IT_TMP/est
mkdir -p "$d/out"
cat >"$d/agent.conf" <<CONF
ca_url = "$EST_BASE";
ca_bundle = "$EST_ROOT";
state_dir = "$d/state";
est_username = "$EST_USER";
bootstrap_token_file = "$EST_TOKEN_FILE";
crl_enabled = false;
log_level = "info";
issuance_budget = 0; # dozens of forced renewals on purpose
certificates = ( {
    name = "dev";
    subject_dn = "CN=kill-client,O=Example";
    sans = [ "kill-client.test" ];
    cert_path = "$d/out/cert.pem";
    key_path = "$d/out/key.pem";
    chain_path = "$d/out/chain.pem";
    ca_certs_path = "$d/out/ca.pem";
} );
CONF

# run_full BIN DIR LOG: one complete forced run, bounded; prints its duration in ms.
run_full() {
    local bin=$1 dir=$2 lg=$3 t0 rc=0 pid
    t0=$(now_ms)
    timeout 90 "$bin" --config "$dir/agent.conf" --once --force >>"$lg" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/run.cur"
    wait "$pid" || rc=$?
    rm -f "$dir/run.cur"
    if [ "$rc" != 0 ]; then
        log "run in $dir exited $rc; the end of its log:"
        tail -n 25 "$lg" >&2
        return 1
    fi
    echo $(($(now_ms) - t0))
}

# worker LABEL BIN DIR CERTNAME TRIALS: the kill -9 trials of one agent; one line per trial
# in DIR/trials ("i delay_ms rc journal_seen before after_restart after_forced torn").
worker() {
    local label=$1 bin=$2 dir=$3 name=$4 trials=$5 i dur delay pid rc rc2 jseen torn before mid new lg
    local cert=$dir/out/cert.pem key=$dir/out/key.pem journal=$dir/state/$name.journal
    lg=$IT_TMP/$label.log
    dur=$(run_full "$bin" "$dir" "$lg") || { log "$label: first issuance failed"; return 1; }
    for i in $(seq "$trials"); do
        before=$(leaf_serial "$cert")
        # odd trials: anywhere in the run; even trials: its last 30% (key, install, exit).
        # dur is the last complete run's duration, exit included: stay just short of it.
        if [ $((i % 2)) = 1 ]; then
            delay=$((RANDOM % (dur * 95 / 100 + 1)))
        else
            delay=$((dur * 70 / 100 + RANDOM % (dur * 28 / 100 + 1)))
        fi
        "$bin" --config "$dir/agent.conf" --once --force >>"$lg" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/run.cur"
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        kill -9 "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        rm -f "$dir/run.cur"
        jseen=0 torn=0
        [ -e "$journal" ] && jseen=1
        mid=$(leaf_serial "$cert")
        # Right after the kill: the pair matches, or an install was cut between its renames
        # and its journal is there for the next start to roll forward (eca_install.h).
        if ! pair_matches "$cert" "$key"; then
            if [ "$jseen" = 0 ] || [ -n "${ROTATE_KILL9_STRICT:-}" ]; then
                log "$label trial $i: killed after ${delay} ms (rc $rc): certificate and key differ (journal: $jseen)"
                ls -la "$dir/out" "$dir/state" >&2
                return 1
            fi
            mid=torn
            torn=1
        fi
        # Restart without forcing: recovery alone must leave a matching pair.
        echo "--- $label trial $i: restart after kill at $delay ms (journal $jseen) ---" >>"$lg"
        rc2=0
        timeout 60 "$bin" --config "$dir/agent.conf" --once >"$dir/restart.out" 2>&1 || rc2=$?
        cat "$dir/restart.out" >>"$lg"
        [ "$rc2" = 0 ] || { log "$label trial $i: restart after the kill exited $rc2"; return 1; }
        if ! pair_matches "$cert" "$key"; then
            log "$label trial $i: after restart, certificate and key differ"
            return 1
        fi
        [ ! -e "$journal" ] || { log "$label trial $i: restart left the journal"; return 1; }
        if [ "$jseen" = 1 ] && ! grep -q '"event":"install_recovered"' "$dir/restart.out"; then
            log "$label trial $i: a journal was left but the restart logged no install_recovered"
            return 1
        fi
        [ "$mid" = torn ] && mid=$(leaf_serial "$cert")
        echo "--- $label trial $i: forced run ---" >>"$lg"
        dur=$(run_full "$bin" "$dir" "$lg") ||
            { log "$label trial $i: the run after the kill failed"; return 1; }
        new=$(leaf_serial "$cert")
        if [ "$new" = "$before" ] || [ "$new" = "$mid" ]; then
            log "$label trial $i: no new certificate after the rerun (serial $new)"
            return 1
        fi
        pair_matches "$cert" "$key" || { log "$label trial $i: rerun left a mismatched pair"; return 1; }
        [ ! -e "$journal" ] || { log "$label trial $i: journal $journal left behind"; return 1; }
        if ls "$dir/out"/*.new >/dev/null 2>&1; then
            log "$label trial $i: staged files left: $(ls "$dir/out"/*.new)"
            return 1
        fi
        echo "$i $delay $rc $jseen $before $mid $new $torn" >>"$dir/trials"
    done
    log "$label: $trials trials done"
}

log "trials: $ACME_WORKERS x $ACME_TRIALS eca-acme, $EST_TRIALS eca-est, in parallel"
WPIDS=()
for w in $(seq "$ACME_WORKERS"); do
    worker "acme$w" "$ECA_ACME" "$IT_TMP/acme$w" "k$w" "$ACME_TRIALS" &
    WPIDS+=($!)
    IT_PIDS+=($!)
done
worker est "$ECA_EST" "$IT_TMP/est" dev "$EST_TRIALS" &
WPIDS+=($!)
IT_PIDS+=($!)
fail=0
for p in "${WPIDS[@]}"; do wait "$p" || fail=1; done
[ "$fail" = 0 ] || die "a kill -9 worker failed (see above)"

# summary_for DIR LABEL MINTRIALS: every trial recorded; most kills interrupted a running agent.
summary_for() {
    local dir=$1 label=$2 want=$3 n killed journals installed torn
    n=$(wc -l <"$dir/trials")
    torn=$(awk '$8 == 1' "$dir/trials" | wc -l)
    killed=$(awk '$3 == 137' "$dir/trials" | wc -l)
    journals=$(awk '$4 == 1' "$dir/trials" | wc -l)
    installed=$(awk '$3 == 137 && $5 != $6' "$dir/trials" | wc -l)
    log "$label: $n trials, $killed killed mid-run, $journals left a journal, $installed rolled forward to the new pair, $torn seen torn (key renamed, certificate not yet) before restart"
    [ "$n" -ge "$want" ] || die "$label: $n trials recorded, want $want"
    [ "$killed" -ge $((n / 2)) ] || die "$label: only $killed of $n kills hit a running agent"
}
total=0
for w in $(seq "$ACME_WORKERS"); do
    summary_for "$IT_TMP/acme$w" "eca-acme worker $w" "$ACME_TRIALS"
    total=$((total + $(wc -l <"$IT_TMP/acme$w/trials")))
done
[ "$total" -ge 50 ] || die "eca-acme: $total trials, want at least 50"
summary_for "$IT_TMP/est" "eca-est" "$EST_TRIALS"
log "PASS"
