#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole local stack end to end: prerequisites, the local stack (target-demo/stack.sh, on ports
# picked at run time), endpoint validation, then scenarios against real servers: ACME and
# EST enrollment, renewal, revocation with CRL, service reload, error handling and
# observability. Prints a table (scenario, PASS/FAIL, seconds); exits 1 on any FAIL.
# Run by `make check` like every scenario here, and by scripts/integration-test.sh with options.
# Options come from scripts/integration-test.sh (the user's front door) as environment:
#   IT_QUICK=0       also wait for the daemons' natural ACME renewal (default 1: make check)
#   IT_NO_CLEANUP=1  leave the stack running in build/it-stack (stack.env describes it)
#   IT_TEST_ONLY=1   do not start a stack: use the one in $STACK_ENV (default
#                    build/it-stack/stack.env, e.g. STACK_ENV=build/demo/stack.env for `make demo`)
#   IT_VALIDATE_ONLY=1  only the endpoint validation
#   IT_DOWN=1        stop a stack left by IT_NO_CLEANUP, then exit
# eca-timeout: 900
QUICK=${IT_QUICK:-1} NO_CLEANUP=${IT_NO_CLEANUP:-0} TEST_ONLY=${IT_TEST_ONLY:-0}
VALIDATE_ONLY=${IT_VALIDATE_ONLY:-0} DOWN=${IT_DOWN:-0}

. "$(dirname "$0")/../../target-demo/stack.sh"
KEEP_DIR=$BUILD/it-stack
STACK_ENV=${STACK_ENV:-$KEEP_DIR/stack.env}
IT_ACME_VALIDITY=${IT_ACME_VALIDITY:-120}
IT_EST_VALIDITY=${IT_EST_VALIDITY:-60}

# stack_down ENVFILE: kill the PIDs a --no-cleanup run left (each by PID).
stack_down() {
    local pid
    [ -s "$1" ] || return 0
    # shellcheck disable=SC1090
    (. "$1"; for pid in $STACK_PIDS; do kill "$pid" 2>/dev/null || true; done)
}
if [ "$DOWN" = 1 ]; then
    stack_down "$KEEP_DIR/stack.env"
    echo "stopped the stack of $KEEP_DIR"
    exit 0
fi

harness_cleanup() {
    local rc=$? pid
    set +e
    if [ -n "${STACK_UP_OUT:-}" ]; then # died while bringing the stack up
        record "stack up" FAIL 0 "see below"
        tail -n 20 "$STACK_UP_OUT" >&2
    fi
    if [ "$NO_CLEANUP" = 1 ] && [ "$TEST_ONLY" = 0 ]; then
        echo "stack left running in $STACK_DIR; stop it with: $0 --down"
        IT_PIDS=()
    fi
    for pid in "${IT_PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
    for pid in "${IT_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$rc" != 0 ] && [ -n "$IT_TMP" ] && [ -z "${IT_KEEP:-}" ]; then
        rm -rf "$BUILD/it-harness-logs"
        mkdir -p "$BUILD/it-harness-logs"
        cp -r "$IT_TMP"/*.log "$IT_TMP"/*.out "$IT_TMP"/*.conf "$BUILD/it-harness-logs/" 2>/dev/null
        echo "logs kept in $BUILD/it-harness-logs"
    fi
    [ -n "$IT_TMP" ] && [ -z "${IT_KEEP:-}" ] && rm -rf "$IT_TMP"
    exit "$rc"
}

# ---- results -------------------------------------------------------------------------------
RESULTS=()
FAILED=0
T_START=$(date +%s)

record() { # NAME RESULT SECONDS NOTE
    RESULTS+=("$(printf '%-34s %-5s %5ss  %s' "$1" "$2" "$3" "$4")")
    printf '%-34s %-5s %5ss  %s\n' "$1" "$2" "$3" "$4" >&2
    [ "$2" = FAIL ] && FAILED=1
    return 0
}

# run NAME FUNCTION: the scenario in a subshell (set -e; processes it starts are killed by
# PID when it ends), output to $IT_TMP/sc-NAME.out.
run() {
    local name=$1 fn=$2 t0 rc note
    t0=$(date +%s)
    set +e
    (
        IT_PIDS=()
        trap 'rc=$?; set +e; for p in "${IT_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; wait 2>/dev/null; exit $rc' EXIT
        trap 'exit 143' TERM
        set -e
        "$fn"
    ) >"$IT_TMP/sc-$name.out" 2>&1 &
    local spid=$!
    (
        sleep "${SCENARIO_LIMIT:-240}" &
        trap 'kill $! 2>/dev/null; exit 0' TERM
        wait $!
        kill -TERM "$spid" 2>/dev/null
    ) &
    local wpid=$!
    wait "$spid"
    rc=$?
    kill "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
    set -e
    note=$(grep -E 'FAIL:|SKIP:|NOTE:' "$IT_TMP/sc-$name.out" | tail -n 1 || true)
    [ -n "$note" ] || note=$(grep -E '^\[[0-9:]{8}\] ' "$IT_TMP/sc-$name.out" | tail -n 1 || true)
    note=$(printf '%s' "$note" | sed 's/^\[[0-9:]*\] //' | cut -c1-110)
    case "$rc" in
    0) record "$name" PASS $(($(date +%s) - t0)) "$note" ;;
    *)
        record "$name" FAIL $(($(date +%s) - t0)) "${note:-exit $rc}"
        sed 's/^/    | /' "$IT_TMP/sc-$name.out" | tail -n 25 >&2
        ;;
    esac
}

# ---- helpers for scenarios -----------------------------------------------------------------
sha_pair() { cat "$1" "$2" | sha256sum | cut -d' ' -f1; }

# wait_until SECONDS CMD...: poll CMD every 0.5 s.
wait_until() {
    local secs=$1 i
    shift
    for i in $(seq $((secs * 2))); do
        if "$@"; then return 0; fi
        sleep 0.5
    done
    return 1
}

# pem_snapshot DIR: a matching copy of the stack's client-pem identity (renewals rename the
# key first, then the certificate).
pem_snapshot() {
    local i
    for i in $(seq 20); do
        cp "$CLIENT_KEY" "$1/c.key" && cp "$CLIENT_CERT" "$1/c.pem" &&
            [ "$(openssl x509 -in "$1/c.pem" -noout -pubkey)" = "$(openssl pkey -in "$1/c.key" -pubout)" ] &&
            return 0
        sleep 0.1
    done
    return 1
}

# fault_ca_start [serve options]: a second demo EST CA (own directory, own ports) for the
# error scenarios, so that faults never touch the stack's CA.
fault_ca_start() {
    FCA_DIR=$IT_TMP/fault-ca
    [ -e "$FCA_DIR/root-ca.pem" ] || est_ca init --dir "$FCA_DIR" --validity-seconds 600 \
        2>>"$IT_TMP/fault-ca-init.log" || die "fault CA init failed"
    FCA_PORT=$(free_port)
    rm -f "$FCA_DIR/serve.json"
    bg_start fault-ca "$EST_PYTHON" -B "$EST_CA_TEST_PY" serve --dir "$FCA_DIR" \
        --listen "127.0.0.1:$FCA_PORT" --crl-listen "127.0.0.1:$(free_port)" "$@"
    FCA_PID=$BG_PID
    wait_until 10 test -s "$FCA_DIR/serve.json" || die "fault CA did not start"
}

# fault_env DIR: eca-est environment for an identity of the fault CA.
fault_env() {
    export CA_URL="https://127.0.0.1:$FCA_PORT" CA_BUNDLE="$FCA_DIR/root-ca.pem"
    export STATE_DIR="$1/state" SUBJECT_DN="CN=fault-client,O=ECA test"
    export CERT_PATH="$1/cert.pem" KEY_PATH="$1/key.pem" LOG_LEVEL=info
    export EST_USERNAME=$(cut -d: -f1 "$FCA_DIR/tokens" | head -n 1)
    export BOOTSTRAP_TOKEN_FILE="$FCA_DIR/bootstrap-token"
    unset BOOTSTRAP_TOKEN CHAIN_PATH CA_CERTS_PATH PFX_PATH CRL_ENABLED FORCE_RENEWAL SANS
    mkdir -p "$1"
}

# ---- endpoint validation -------------------------------------------------------------------
ep_acme_directory() {
    curl -sSf --max-time 10 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_DIR_URL" -o "$IT_TMP/dir.json" ||
        die "ACME directory $PEBBLE_DIR_URL unreachable"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d[k] for k in ("newNonce","newAccount","newOrder","revokeCert")]' \
        "$IT_TMP/dir.json" || die "ACME directory lacks newNonce/newAccount/newOrder/revokeCert"
    log "ACME directory OK: $PEBBLE_DIR_URL"
}

ep_crl() {
    curl -sSf --max-time 10 "$EST_CRL_URL" -o "$IT_TMP/crl.der" || die "CRL $EST_CRL_URL unreachable"
    openssl crl -inform DER -in "$IT_TMP/crl.der" -CAfile "$EST_CA_DIR/ca-chain.pem" -noout 2>&1 |
        grep -q 'verify OK' || die "CRL signature does not verify against the EST CA"
    log "CRL OK: $(openssl crl -inform DER -in "$IT_TMP/crl.der" -noout -nextupdate), signed by the EST issuing CA"
}

ep_est_cacerts() {
    curl -sSf --max-time 10 --cacert "$EST_ROOT" "$EST_URL/cacerts" -o "$IT_TMP/cacerts.b64" ||
        die "EST /cacerts unreachable"
    base64 -d "$IT_TMP/cacerts.b64" >"$IT_TMP/cacerts.p7" 2>/dev/null || die "/cacerts is not base64"
    openssl pkcs7 -inform DER -in "$IT_TMP/cacerts.p7" -print_certs -out "$IT_TMP/cacerts.pem" ||
        die "/cacerts is not a PKCS#7 certs-only"
    [ "$(grep -c 'BEGIN CERTIFICATE' "$IT_TMP/cacerts.pem")" -ge 2 ] || die "/cacerts: fewer than 2 certificates"
    grep -q -e "$(sed -n 2p "$EST_ROOT")" "$IT_TMP/cacerts.pem" || die "/cacerts lacks the root"
    log "EST /cacerts OK: $(grep -c 'BEGIN CERTIFICATE' "$IT_TMP/cacerts.pem") certificates"
}

ep_nginx() {
    local c=(curl -sS --max-time 10 --cacert "$PEBBLE_ROOT" --resolve "$WEB_NAME:$NGINX_PORT:127.0.0.1")
    "${c[@]}" "https://$WEB_NAME:$NGINX_PORT/" | grep -q 'hello from nginx' || die "nginx HTTPS / failed"
    [ "$("${c[@]}" -o /dev/null -w '%{http_code}' "https://$WEB_NAME:$NGINX_PORT/mtls")" = 403 ] ||
        die "/mtls without a client certificate is not 403"
    pem_snapshot "$IT_TMP" || die "client-pem identity unreadable"
    "${c[@]}" --cert "$IT_TMP/c.pem" --key "$IT_TMP/c.key" "https://$WEB_NAME:$NGINX_PORT/mtls" |
        grep -q 'mtls ok' || die "/mtls with the EST client certificate failed"
    log "nginx HTTPS OK (ACME certificate verified), /mtls 403 without and 200 with an EST certificate"
}

ep_mosquitto() {
    local tls=(-h localhost -p "$MQTT_PORT" --cafile "$PEBBLE_ROOT") msg="validate-$$"
    timeout 10 openssl s_client -connect "127.0.0.1:$MQTT_PORT" -servername localhost \
        -CAfile "$PEBBLE_ROOT" -verify_hostname localhost -verify_return_error </dev/null \
        >"$IT_TMP/mq-sclient.txt" 2>&1 || true
    grep -q 'Verify return code: 0 (ok)' "$IT_TMP/mq-sclient.txt" ||
        die "Mosquitto TLS does not verify against pebble's root for localhost"
    pem_snapshot "$IT_TMP" || die "client-pem identity unreadable"
    timeout 10 mosquitto_pub "${tls[@]}" --cert "$IT_TMP/c.pem" --key "$IT_TMP/c.key" \
        -t eca/validate -r -m "$msg" || die "publish with the EST client certificate failed"
    [ "$(timeout 10 mosquitto_sub "${tls[@]}" --cert "$IT_TMP/c.pem" --key "$IT_TMP/c.key" \
        -t eca/validate -C 1 -W 5)" = "$msg" ] || die "subscribe did not get the message"
    if timeout 10 mosquitto_pub "${tls[@]}" -t eca/validate -m x 2>/dev/null; then
        die "Mosquitto accepted a client without a certificate"
    fi
    log "Mosquitto TLS OK: verified server, client certificate required"
}

# ---- scenarios -----------------------------------------------------------------------------
sc_acme_enroll() {
    agent_env "$IT_TMP/acme"
    export DOMAIN_NAME="it-$$.eca.test,www.it-$$.eca.test" WEBROOT="$STACK_DIR/webroot"
    unset HTTP01_LISTEN
    run_agent acme-enroll --once || die "eca-acme --once exited $?"
    assert_installed "$CERT_PATH" "$KEY_PATH" "it-$$.eca.test" "www.it-$$.eca.test"
    last_event acme-enroll cert_installed | grep -q '"event":"cert_installed"' || die "no cert_installed event"
    ls "$STACK_DIR/webroot/.well-known/acme-challenge/" | grep -q . &&
        log "NOTE: challenge files left in the webroot"
    return 0
}

sc_est_enroll() {
    est_env "$IT_TMP/est"
    run_est est-enroll --once || die "eca-est --once exited $?"
    est_assert_installed "$CERT_PATH" "$KEY_PATH"
    last_event est-enroll cert_issued | grep -q '"op":"simpleenroll"' || die "not a simpleenroll"
    openssl x509 -in "$CERT_PATH" -noout -ext crlDistributionPoints | grep -q -e "$EST_CRL_URL" ||
        die "no CRL distribution point $EST_CRL_URL"
    log "enrolled $(openssl x509 -in "$CERT_PATH" -noout -subject)"
}

# serial_changed CERT OLD: the certificate at CERT no longer has serial OLD.
serial_changed() { local s; s=$(cert_serial "$1" 2>/dev/null) && [ -n "$s" ] && [ "$s" != "$2" ]; }

# served_is_installed PORT SNI CERT: the server presents the certificate installed at CERT.
served_is_installed() { [ "$(served_serial "$1" "$2")" = "$(cert_serial "$3" 2>/dev/null)" ]; }

# due_in CERT: seconds until a third of the lifetime is left (the agents' default threshold).
due_in() { local l; l=$(cert_left "$1"); echo $((l - $(cert_lifetime "$1") * 33 / 100)); }

sc_renewal() {
    local s1 s0 limit
    est_env "$IT_TMP/est"
    [ -s "$CERT_PATH" ] || run_est est-enroll --once || die "enroll failed"
    s1=$(cert_serial "$CERT_PATH")
    sleep 2
    RENEWAL_THRESHOLD_PERCENT=99 run_est renew-threshold --once || die "threshold pass failed"
    [ "$(cert_serial "$CERT_PATH")" != "$s1" ] || die "the 99% threshold did not renew"
    last_event renew-threshold cert_issued | grep -q '"op":"simplereenroll"' || die "not a re-enroll"
    grep -q '"reason":"threshold"' "$IT_TMP/renew-threshold.log" || die "no threshold reason"
    est_assert_installed "$CERT_PATH" "$KEY_PATH"
    log "threshold renewal: $s1 -> $(cert_serial "$CERT_PATH") (simplereenroll over mTLS)"
    # The stack's daemons renew on their own when a third of the lifetime is left.
    s0=$(cert_serial "$CLIENT_CERT")
    limit=$(($(due_in "$CLIENT_CERT") + 20))
    log "waiting up to ${limit}s for eca-est's own renewal of client-pem (serial $s0)"
    wait_until "$limit" serial_changed "$CLIENT_CERT" "$s0" ||
        die "the eca-est daemon did not renew client-pem within ${limit}s"
    log "daemon renewal: client-pem $s0 -> $(cert_serial "$CLIENT_CERT")"
    [ "$QUICK" = 1 ] && return 0
    s0=$(cert_serial "$WEB_CERT")
    limit=$(($(due_in "$WEB_CERT") + 20))
    log "waiting up to ${limit}s for eca-acme's own renewal of nginx's certificate (serial $s0)"
    wait_until "$limit" serial_changed "$WEB_CERT" "$s0" ||
        die "the eca-acme daemon did not renew nginx's certificate within ${limit}s"
    wait_until 20 served_is_installed "$NGINX_PORT" "$WEB_NAME" "$WEB_CERT" ||
        die "nginx does not serve the renewed certificate"
    log "daemon renewal: nginx $s0 -> $(cert_serial "$WEB_CERT"), served by nginx"
}

sc_revocation() {
    local s1 s2 pid
    est_env "$IT_TMP/revoke"
    export CRL_ENABLED=true CHECK_INTERVAL_SECONDS=2 LOG_LEVEL=info
    bg_start revoke-daemon "$ECA_EST"
    pid=$BG_PID
    wait_until 30 test -s "$CERT_PATH" || die "daemon did not enroll"
    s1=$(cert_serial "$CERT_PATH")
    est_ca revoke --dir "$EST_CA_DIR" --serial "$s1" --reason keyCompromise 2>>"$IT_TMP/revoke-ca.log" ||
        die "est_ca.py revoke failed"
    curl -sSf --max-time 5 "$EST_CRL_URL" | openssl crl -inform DER -noout -text |
        grep -qi -e "$(echo "$s1" | tr a-f A-F | sed 's/^0*//')" || die "the CRL does not list $s1"
    log "revoked $s1; waiting for the daemon to notice through the CRL"
    wait_until 45 bash -c "grep -q '\"revoked\":true' '$IT_TMP/revoke-daemon.log'" ||
        die "the daemon did not see the revocation in the CRL within 45 s"
    wait_until 20 serial_changed "$CERT_PATH" "$s1" ||
        die "no new certificate after the revocation"
    s2=$(cert_serial "$CERT_PATH")
    grep '"event":"cert_issued"' "$IT_TMP/revoke-daemon.log" | tail -n 1 | grep -q '"op":"simpleenroll"' ||
        die "the replacement was not a fresh simpleenroll"
    est_assert_installed "$CERT_PATH" "$KEY_PATH"
    log "daemon re-enrolled after revocation: $s1 -> $s2"
}

sc_service_reload() {
    local w0 m0 n0
    w0=$(cert_serial "$WEB_CERT") m0=$(cert_serial "$MQTT_CERT")
    n0=$(grep -c '"event":"reload_done"' "$STACK_DIR/eca-acme.log" || true)
    kill -USR1 "$ECA_ACME_PID" || die "cannot signal eca-acme ($ECA_ACME_PID)"
    wait_until 60 bash -c "[ \"\$(grep -c '\"event\":\"reload_done\"' '$STACK_DIR/eca-acme.log')\" -ge $((n0 + 2)) ]" ||
        die "eca-acme did not reload both services within 60 s after USR1"
    [ "$(cert_serial "$WEB_CERT")" != "$w0" ] || die "nginx certificate not renewed"
    [ "$(cert_serial "$MQTT_CERT")" != "$m0" ] || die "mosquitto certificate not renewed"
    wait_until 20 served_is_installed "$NGINX_PORT" "$WEB_NAME" "$WEB_CERT" ||
        die "nginx still serves $(served_serial "$NGINX_PORT" "$WEB_NAME"), installed $(cert_serial "$WEB_CERT")"
    wait_until 20 served_is_installed "$MQTT_PORT" localhost "$MQTT_CERT" ||
        die "Mosquitto still serves the old certificate"
    log "nginx serves $(cert_serial "$WEB_CERT") (was $w0), Mosquitto serves $(cert_serial "$MQTT_CERT") (was $m0)"
}

sc_error_ca_down() {
    local h rc=0 dead
    fault_ca_start
    fault_env "$IT_TMP/fault"
    run_est fault-enroll --once || die "enroll at the fault CA failed"
    h=$(sha_pair "$CERT_PATH" "$KEY_PATH")
    kill "$FCA_PID"
    wait "$FCA_PID" 2>/dev/null || true
    run_est est-ca-down --once --force || rc=$?
    [ "$rc" = 1 ] || die "eca-est exited $rc with the CA down, want 1"
    grep '"event":"renew_failed"' "$IT_TMP/est-ca-down.log" | grep -qiE "127\.0\.0\.1:$FCA_PORT|connect|refused" ||
        die "the error does not say the CA is unreachable: $(grep renew_failed "$IT_TMP/est-ca-down.log")"
    [ "$(sha_pair "$CERT_PATH" "$KEY_PATH")" = "$h" ] || die "EST pair changed while the CA was down"
    log "EST: $(grep -o '"msg":"[^"]*"' "$IT_TMP/est-ca-down.log" | tail -n 1)"
    # ACME: the directory on a port where nothing listens.
    agent_env "$IT_TMP/acme-down"
    export DOMAIN_NAME="down-$$.eca.test" WEBROOT="$STACK_DIR/webroot"
    run_agent acme-seed --once || die "seed issuance failed"
    h=$(sha_pair "$CERT_PATH" "$KEY_PATH")
    dead=$(free_port)
    rc=0
    CA_URL="https://127.0.0.1:$dead/dir" run_agent acme-ca-down --once --force || rc=$?
    [ "$rc" = 1 ] || die "eca-acme exited $rc with the CA down, want 1"
    grep -iE "level\":\"error" "$IT_TMP/acme-ca-down.log" | grep -qiE "127\.0\.0\.1:$dead|connect|refused" ||
        die "eca-acme's error does not name the unreachable CA"
    [ "$(sha_pair "$CERT_PATH" "$KEY_PATH")" = "$h" ] || die "ACME pair changed while the CA was down"
    log "ACME: $(grep -o '"msg":"[^"]*"' "$IT_TMP/acme-ca-down.log" | tail -n 1)"
}

sc_error_bad_token() {
    local rc=0 bad="wrong-token-$$-$RANDOM"
    est_env "$IT_TMP/badtoken"
    printf '%s\n' "$bad" >"$IT_TMP/bad-token"
    chmod 600 "$IT_TMP/bad-token"
    BOOTSTRAP_TOKEN_FILE="$IT_TMP/bad-token" run_est bad-token --once || rc=$?
    [ "$rc" = 1 ] || die "eca-est exited $rc with a bad token, want 1"
    grep -E '"level":"error"' "$IT_TMP/bad-token.log" | grep -qiE '401|unauthori[sz]ed|authenticat' ||
        die "the error does not say authentication failed: $(grep error "$IT_TMP/bad-token.log" | tail -n 1)"
    [ ! -e "$CERT_PATH" ] && [ ! -e "$KEY_PATH" ] || die "files installed despite the bad token"
    if grep -qF -- "$bad" "$IT_TMP/bad-token.log"; then die "the token leaked into the log"; fi
    log "$(grep -o '"msg":"[^"]*"' "$IT_TMP/bad-token.log" | tail -n 1)"
}

sc_error_garbage() {
    local h rc=0
    fault_ca_start
    fault_env "$IT_TMP/fault-g"
    run_est garbage-enroll --once || die "enroll at the fault CA failed"
    h=$(sha_pair "$CERT_PATH" "$KEY_PATH")
    printf 'garbage\n' >"$FCA_DIR/mode"
    run_est garbage --once --force || rc=$?
    [ "$rc" = 1 ] || die "eca-est exited $rc when the CA answered garbage, want 1"
    grep '"event":"renew_failed"' "$IT_TMP/garbage.log" | grep -qiE 'pkcs ?#?7|parse|base64|decode|certs-only' ||
        die "the error does not say the answer was unparsable: $(grep renew_failed "$IT_TMP/garbage.log")"
    [ "$(sha_pair "$CERT_PATH" "$KEY_PATH")" = "$h" ] || die "the pair changed after a garbage answer"
    log "$(grep -o '"msg":"[^"]*"' "$IT_TMP/garbage.log" | tail -n 1)"
    printf 'fail-500\n' >"$FCA_DIR/mode"
    rc=0
    run_est fail500 --once --force || rc=$?
    [ "$rc" = 1 ] || die "eca-est exited $rc on HTTP 500, want 1"
    [ "$(sha_pair "$CERT_PATH" "$KEY_PATH")" = "$h" ] || die "the pair changed after a 500"
    : >"$FCA_DIR/mode"
    run_est recovered --once --force || die "no recovery once the CA answers properly"
    [ "$(sha_pair "$CERT_PATH" "$KEY_PATH")" != "$h" ] || die "recovery kept the old pair"
    log "garbage and 500 kept the old pair; the next good answer installed a new one"
}

# Every line a JSON object with ts, level, agent, event; the events a run must show.
check_json_log() { # FILE EVENT...
    python3 - "$@" <<'EOF'
import json, sys
path, want = sys.argv[1], set(sys.argv[2:])
seen, n = set(), 0
for i, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        o = json.loads(line)
    except ValueError:
        sys.exit(f"FAIL: {path}:{i}: not JSON: {line[:120]}")
    for k in ("ts", "level", "agent", "event"):
        if k not in o:
            sys.exit(f"FAIL: {path}:{i}: no '{k}'")
    seen.add(o["event"])
    n += 1
missing = want - seen
if missing:
    sys.exit(f"FAIL: {path}: events missing: {sorted(missing)} (seen {sorted(seen)})")
print(f"{path}: {n} JSON lines, events {sorted(seen)}")
EOF
}

sc_observability_logs() {
    check_json_log "$STACK_DIR/eca-acme.log" cert_checked cert_installed reload_done || exit 1
    check_json_log "$STACK_DIR/eca-est.log" cert_checked cert_installed crl_checked || exit 1
    if grep -rqF -- "$(cat "$EST_TOKEN_FILE")" "$STACK_DIR"/*.log "$IT_TMP"/*.log 2>/dev/null; then
        die "the bootstrap token appears in a log"
    fi
    if grep -rqF -- "$(head -n 1 "$CLIENT_PFX_PASS")" "$STACK_DIR"/*.log 2>/dev/null; then
        die "the .pfx password appears in a log"
    fi
    log "JSON logs OK, no secrets in them"
}

# check_metrics FILE CERT...: the series the issue asks for, per managed certificate, and no
# renewal failures counted.
check_metrics() {
    local f=$1 c m fails
    shift
    for c in "$@"; do
        for m in eca_cert_not_after_seconds eca_cert_lifetime_left_ratio eca_renewals_total \
            eca_renewal_failures_total; do
            grep -qE "^$m\{[^}]*cert=\"$c\"" "$f" || die "$f: no $m for $c"
        done
    done
    grep -qE '^eca_last_success_timestamp_seconds\{' "$f" || die "$f: no eca_last_success_timestamp_seconds"
    fails=$(awk '/^eca_renewal_failures_total\{/ {n += $NF} END {print n + 0}' "$f")
    [ "$fails" = 0 ] || die "$f: $fails renewal failures counted"
    log "$f: $(grep -c '^eca_' "$f") samples; renewals $(awk '/^eca_renewals_total\{/ {n += $NF} END {print n + 0}' "$f")"
}

sc_observability_metrics() {
    local found=0
    if [ -s "$STACK_DIR/metrics/eca-acme.prom" ] || [ -s "$STACK_DIR/metrics/eca-est.prom" ]; then
        found=1
        check_metrics "$STACK_DIR/metrics/eca-acme.prom" nginx mosquitto minio
        check_metrics "$STACK_DIR/metrics/eca-est.prom" client-pem client-pfx
    fi
    if curl -sf --max-time 5 "http://127.0.0.1:$METRICS_ACME_PORT/metrics" -o "$IT_TMP/metrics-acme.txt"; then
        found=1
        check_metrics "$IT_TMP/metrics-acme.txt" nginx mosquitto minio
        grep -qE '^eca_renewals_total\{[^}]*cert="nginx"[^}]*\} [1-9]' "$IT_TMP/metrics-acme.txt" ||
            die "the endpoint counts no renewal of nginx's certificate"
    fi
    if curl -sf --max-time 5 "http://127.0.0.1:$METRICS_EST_PORT/metrics" -o "$IT_TMP/metrics-est.txt"; then
        found=1
        check_metrics "$IT_TMP/metrics-est.txt" client-pem client-pfx
    fi
    [ "$found" = 1 ] || die "no metrics: neither a textfile nor an endpoint answered"
}

sc_demo_client() {
    local f ok fail
    f=$STACK_DIR/client/counts
    [ -s "$f" ] || die "no client counts in $f"
    ok=$(($(sed -n 's/^https_ok=//p' "$f") + $(sed -n 's/^mqtt_ok=//p' "$f")))
    fail=$(($(sed -n 's/^https_fail=//p' "$f") + $(sed -n 's/^mqtt_fail=//p' "$f")))
    [ "$ok" -gt 0 ] || die "the client never succeeded"
    [ "$fail" = 0 ] || die "$fail client requests failed: $(grep FAIL "$STACK_DIR/demo-client.log" | tail -n 3)"
    log "client: $ok requests (mTLS /mtls and MQTT) through every renewal, 0 failed"
}

# ---- main ----------------------------------------------------------------------------------
t0=$(date +%s)
if [ "$TEST_ONLY" = 1 ]; then
    [ -s "$STACK_ENV" ] || die "--test-only: no stack description at $STACK_ENV"
    IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eca-it-XXXXXX")
    chmod 0755 "$IT_TMP"
    trap harness_cleanup EXIT
    trap 'exit 130' INT TERM
    # shellcheck disable=SC1090
    . "$STACK_ENV"
    kill -0 "$ECA_ACME_PID" 2>/dev/null || die "the stack of $STACK_ENV is not running"
    (stack_prereqs) || exit 1
    record prerequisites PASS $(($(date +%s) - t0)) ""
else
    if ! (stack_prereqs) 2>"${TMPDIR:-/tmp}/eca-prereq.$$"; then
        cat "${TMPDIR:-/tmp}/eca-prereq.$$" >&2
        rm -f "${TMPDIR:-/tmp}/eca-prereq.$$"
        exit 1
    fi
    rm -f "${TMPDIR:-/tmp}/eca-prereq.$$"
    record prerequisites PASS $(($(date +%s) - t0)) ""
    if [ "$NO_CLEANUP" = 1 ]; then
        stack_down "$KEEP_DIR/stack.env"
        rm -rf "$KEEP_DIR"
        mkdir -p "$KEEP_DIR"
        IT_TMP=$(cd "$KEEP_DIR" && pwd)
        IT_KEEP=1
    else
        IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eca-it-XXXXXX")
        chmod 0755 "$IT_TMP"
    fi
    trap harness_cleanup EXIT
    trap 'exit 130' INT TERM
    t0=$(date +%s)
    stack_ports_free
    STACK_UP_OUT=$IT_TMP/stack-up.out
    stack_up "$IT_ACME_VALIDITY" "$IT_EST_VALIDITY" >"$STACK_UP_OUT" 2>&1
    STACK_UP_OUT=
    stack_start_client >/dev/null
    record "stack up" PASS $(($(date +%s) - t0)) "$IT_TMP"
fi
export STACK_DIR

run "endpoint: ACME directory" ep_acme_directory
run "endpoint: CRL" ep_crl
run "endpoint: EST cacerts" ep_est_cacerts
run "endpoint: nginx HTTPS" ep_nginx
run "endpoint: Mosquitto TLS" ep_mosquitto
if [ "$VALIDATE_ONLY" = 0 ]; then
    run "ACME enrollment" sc_acme_enroll
    run "EST enrollment" sc_est_enroll
    run "revocation with CRL" sc_revocation
    run "service reload" sc_service_reload
    run "error: CA down" sc_error_ca_down
    run "error: bad token" sc_error_bad_token
    run "error: CA answers garbage" sc_error_garbage
    run "renewal" sc_renewal
    run "observability: JSON logs" sc_observability_logs
    run "observability: metrics" sc_observability_metrics
    [ "$TEST_ONLY" = 1 ] || run "demo client: no failed request" sc_demo_client
fi

echo
echo "---- stack_e2e $([ "$QUICK" = 1 ] && echo quick) ($(($(date +%s) - T_START)) s) ----"
printf '%-34s %-5s %6s  %s\n' scenario result time note
printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
