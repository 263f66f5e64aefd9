#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-timeout: 1800
# The Windows build under wine64: cross-build and unit suites, eca-acme.exe --once against
# pebble (webroot mode, IIS web.config written), eca-est.exe --once against the demo EST CA,
# certificates verified by openssl here; then both as services under wine's service manager.
# Never skipped: without mingw-w64 or wine it FAILS naming scripts/deps.sh, which installs them.
#   ECA_WIN_ACME_EXE, ECA_WIN_EST_EXE   test these exes instead of build-win/*.exe
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
# Nothing below may read a terminal: `timeout` runs its child in a background process group,
# which job control stops (state T) at its first terminal read.
exec </dev/null
# Wine maps Windows file names to Linux ones in the charset of LC_CTYPE: pinned, so that the
# result does not depend on the caller's locale (windows/wine-run-tests.sh does the same).
export LC_ALL=C.UTF-8

CACHE=${ECA_WIN_CACHE:-/var/cache/eca-wincross}
WIN_BUILD=$ECA_ROOT/build-win
STEP=${ECA_WIN_STEP_TIMEOUT:-120}

missing=""
command -v x86_64-w64-mingw32-gcc >/dev/null || missing="$missing gcc-mingw-w64-x86-64"
command -v wine >/dev/null || missing="$missing wine"
[ -x /usr/lib/wine/wine64 ] || command -v wine64 >/dev/null || missing="$missing wine64"
[ -z "$missing" ] || die "missing Debian packages:$missing: run scripts/deps.sh (as root) first"
it_init

# ---- 1. cross-build, import gate, unit suites under wine ----
s=$(date +%s)
# A cold dependency build took 9-14 min on 2 busy cores (docs/WINDOWS.md); a cache hit 1 s.
timeout 1500 make -C "$ECA_ROOT" windows >"$IT_TMP/make-windows.log" 2>&1 ||
    die "make windows failed (see make-windows.log)"
grep 'bytes, imports' "$IT_TMP/make-windows.log" | sed 's/^/    /' >&2
log "make windows: $(($(date +%s) - s))s"
s=$(date +%s)
timeout 900 make -C "$ECA_ROOT" windows-check >"$IT_TMP/windows-check.log" 2>&1 ||
    die "make windows-check failed (see windows-check.log)"
log "make windows-check: $(grep -c '^wine-run-tests: ok' "$IT_TMP/windows-check.log") suites green, $(($(date +%s) - s))s"
ACME_EXE=${ECA_WIN_ACME_EXE:-$WIN_BUILD/eca-acme.exe}
EST_EXE=${ECA_WIN_EST_EXE:-$WIN_BUILD/eca-est.exe}

# ---- wine: a prefix of our own (services registered in it are deleted at the end) ----
WINE=$(command -v wine64 || command -v wine)
export WINEPREFIX=${ECA_WIN_IT_PREFIX:-$CACHE/wineprefix-it-$("$WINE" --version 2>/dev/null | tr -c 'A-Za-z0-9.\n' _)}
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
SERVICES=()
wine_cleanup() {
    local rc=$? n
    for n in "${SERVICES[@]:-}"; do
        [ -n "$n" ] || continue
        timeout 30 "$WINE" sc stop "$n" >/dev/null 2>&1 || true
        timeout 30 "$WINE" sc delete "$n" >/dev/null 2>&1 || true
    done
    timeout 30 wineserver -k 2>/dev/null || true
    it_cleanup "$rc"
}
trap wine_cleanup EXIT
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    mkdir -p "$WINEPREFIX"
    timeout 300 "$WINE" wineboot -i >/dev/null 2>&1 || true
    timeout 120 wineserver -w || true
fi
# Persistent server: with Debian's default (-p0) it and services.exe end with the last client.
timeout 30 wineserver -p 2>/dev/null || true
timeout 120 "$WINE" wineboot </dev/null >/dev/null 2>&1 || true

w() { printf 'Z:%s' "$1" | tr / '\\'; } # a Unix path as the Windows exe sees it
wrun() {                                  # wrun LOG EXE ARGS...: bounded, CRLF stripped
    local name=$1 rc=0
    shift
    timeout -k 5 "$STEP" "$WINE" "$@" </dev/null >"$IT_TMP/$name.raw" 2>&1 || rc=$?
    tr -d '\r' <"$IT_TMP/$name.raw" >>"$IT_TMP/$name.log"
    return $rc
}

# verify CERT KEY ROOT: full chain to ROOT, key matches (openssl, on the Linux side).
verify() {
    [ -s "$1" ] || die "no certificate at $1"
    [ -s "$2" ] || die "no key at $2"
    split_fullchain "$1" "$IT_TMP/leaf.pem" "$IT_TMP/issuers.pem"
    openssl verify -CAfile "$3" -untrusted "$IT_TMP/issuers.pem" "$IT_TMP/leaf.pem" >/dev/null ||
        die "openssl verify failed for $1"
    [ "$(openssl x509 -in "$IT_TMP/leaf.pem" -noout -pubkey)" = \
        "$(openssl pkey -in "$2" -pubout)" ] || die "key $2 does not match $1"
}

# wait_file PATH SECS: until PATH exists and is not empty.
wait_file() {
    local i
    for i in $(seq $(($2 * 5))); do
        [ -s "$1" ] && return 0
        sleep 0.2
    done
    return 1
}

# wait_state NAME STATE SECS: until `sc query NAME` reports STATE.
wait_state() {
    local i
    for i in $(seq $(($3 * 2))); do
        timeout 20 "$WINE" sc query "$1" 2>/dev/null | tr -d '\r' | grep -q "STATE.*$2" && return 0
        sleep 0.5
    done
    return 1
}

# wait_gone NAME SECS: until `sc query NAME` fails (not times out) and shows no service.
wait_gone() {
    local i rc
    for i in $(seq $(($2 * 2))); do
        rc=0
        timeout 20 "$WINE" sc query "$1" >"$IT_TMP/sc-query.out" 2>&1 || rc=$?
        case $rc in 0 | 124 | 137) ;; *) grep -q 'STATE' "$IT_TMP/sc-query.out" || return 0 ;; esac
        sleep 0.5
    done
    return 1
}

# ---- 2. eca-acme.exe --once, webroot mode, pebble validating through python's http.server ----
start_pebble
www=$IT_TMP/www
mkdir -p "$www"
bg_start http01 python3 -m http.server --bind 127.0.0.1 --directory "$www" "$PEBBLE_HTTP01_PORT"
wait_for_port "$PEBBLE_HTTP01_PORT" 20
a=$IT_TMP/acme
mkdir -p "$a/out" "$a/state"
s=$(date +%s)
CA_URL=$PEBBLE_DIR_URL CA_BUNDLE=$(w "$PEBBLE_TLS_CA") STATE_DIR=$(w "$a/state") \
    CERT_PATH=$(w "$a/out/cert.pem") KEY_PATH=$(w "$a/out/key.pem") DOMAIN_NAME=wine-webroot.test \
    WEBROOT=$(w "$www") LOG_LEVEL=debug wrun acme-once "$ACME_EXE" --once ||
    die "eca-acme.exe --once failed (see acme-once.log)"
verify "$a/out/cert.pem" "$a/out/key.pem" "$PEBBLE_ROOT"
wc=$www/.well-known/acme-challenge/web.config
[ -s "$wc" ] || die "no web.config next to the challenge files"
grep -q '<remove fileExtension="." />' "$wc" && grep -q 'mimeType="text/plain"' "$wc" ||
    die "web.config lacks the remove + mimeMap pair"
[ "$(grep -n 'remove fileExtension' "$wc" | cut -d: -f1)" -lt "$(grep -n 'mimeMap' "$wc" | cut -d: -f1)" ] ||
    die "web.config: <remove> must come before <mimeMap>"
left=$(find "$www/.well-known/acme-challenge" -type f ! -name web.config | wc -l)
[ "$left" = 0 ] || die "$left challenge file(s) left in the webroot"
grep -q 'acme-challenge' "$IT_TMP/http01.log" || die "pebble fetched no challenge"
log "eca-acme.exe --once (webroot): certificate verified, web.config written ($(($(date +%s) - s))s)"

# ---- 3. eca-est.exe --once against the demo EST CA ----
start_est_ca
e=$IT_TMP/est
mkdir -p "$e/out" "$e/state"
s=$(date +%s)
CA_URL=$EST_BASE CA_BUNDLE=$(w "$EST_ROOT") STATE_DIR=$(w "$e/state") \
    SUBJECT_DN="CN=wine-client,O=Example" CERT_PATH=$(w "$e/out/cert.pem") \
    KEY_PATH=$(w "$e/out/key.pem") EST_USERNAME=$EST_USER \
    BOOTSTRAP_TOKEN_FILE=$(w "$EST_TOKEN_FILE") LOG_LEVEL=debug wrun est-once "$EST_EXE" --once ||
    die "eca-est.exe --once failed (see est-once.log)"
verify "$e/out/cert.pem" "$e/out/key.pem" "$EST_ROOT"
openssl x509 -in "$e/out/cert.pem" -noout -subject | grep -q 'CN *= *wine-client' ||
    die "EST certificate has the wrong subject"
log "eca-est.exe --once: certificate verified ($(($(date +%s) - s))s)"

# ---- 4. services: eca-est via sc create/start/stop/delete, eca-acme via `service install` ----
sn="ECA.Test.EST.$$"
se=$IT_TMP/est-svc
mkdir -p "$se/out" "$se/state"
cat >"$se/est.conf" <<EOF
ca_url = "$EST_BASE";
ca_bundle = "$(w "$EST_ROOT" | sed 's/\\/\\\\/g')";
state_dir = "$(w "$se/state" | sed 's/\\/\\\\/g')";
est_username = "$EST_USER";
bootstrap_token_file = "$(w "$EST_TOKEN_FILE" | sed 's/\\/\\\\/g')";
log_level = "debug";
certificates = ( {
    name = "svc";
    subject_dn = "CN=wine-service,O=Example";
    cert_path = "$(w "$se/out/cert.pem" | sed 's/\\/\\\\/g')";
    key_path = "$(w "$se/out/key.pem" | sed 's/\\/\\\\/g')";
} );
EOF
s=$(date +%s)
SERVICES+=("$sn")
wrun est-svc sc create "$sn" binpath= "$(w "$EST_EXE") service run --name $sn --config $(w "$se/est.conf")" \
    start= demand || die "sc create failed (see est-svc.log)"
wait_state "$sn" STOPPED 10 || die "$sn was not created (sc query, see est-svc.log)"
wrun est-svc sc start "$sn" || die "sc start failed (see est-svc.log)"
wait_state "$sn" RUNNING 30 || die "$sn did not reach RUNNING"
wait_file "$se/out/cert.pem" 60 || die "the EST service installed no certificate within 60 s"
sleep 1
verify "$se/out/cert.pem" "$se/out/key.pem" "$EST_ROOT"
serial1=$(cert_serial "$se/out/cert.pem")
# Control code 128 (renew now, whatever the lifetime left), sent through ControlService:
# wine's sc.exe has no `control` verb. PARAMCHANGE first: the service must survive a reload.
wrun est-svc "$EST_EXE" service reload --name "$sn" || die "service reload failed (see est-svc.log)"
wrun est-svc "$EST_EXE" service renew --name "$sn" || die "service renew failed (see est-svc.log)"
for i in $(seq 150); do
    [ -s "$se/out/cert.pem" ] && [ "$(cert_serial "$se/out/cert.pem" 2>/dev/null)" != "$serial1" ] && break
    sleep 0.2
done
[ "$(cert_serial "$se/out/cert.pem")" != "$serial1" ] || die "control 128 did not force a renewal"
sleep 1
verify "$se/out/cert.pem" "$se/out/key.pem" "$EST_ROOT"
wait_state "$sn" RUNNING 5 || die "$sn is no longer RUNNING after reload and renew"
wrun est-svc sc stop "$sn" || die "sc stop failed (see est-svc.log)"
wait_state "$sn" STOPPED 40 || die "$sn did not stop"
wrun est-svc sc delete "$sn" || die "sc delete failed (see est-svc.log)"
wait_gone "$sn" 20 || die "$sn still exists after sc delete"
SERVICES=()
log "eca-est.exe as a service: created, RUNNING, certificate, control 128 renewal (new serial), STOPPED, deleted ($(($(date +%s) - s))s)"

an="ECA.Test.ACME.$$"
sa=$IT_TMP/acme-svc
mkdir -p "$sa/out" "$sa/state"
mport=$(free_port)
cat >"$sa/acme.conf" <<EOF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$(w "$PEBBLE_TLS_CA" | sed 's/\\/\\\\/g')";
state_dir = "$(w "$sa/state" | sed 's/\\/\\\\/g')";
tos_agreed = true;
webroot = "$(w "$www" | sed 's/\\/\\\\/g')";
log_level = "debug";
metrics_listen = "127.0.0.1:$mport";
certificates = ( {
    name = "svc";
    domains = [ "wine-service.test" ];
    cert_path = "$(w "$sa/out/cert.pem" | sed 's/\\/\\\\/g')";
    key_path = "$(w "$sa/out/key.pem" | sed 's/\\/\\\\/g')";
} );
EOF
s=$(date +%s)
SERVICES+=("$an")
wrun acme-svc "$ACME_EXE" service install --name "$an" --config "$(w "$sa/acme.conf")" ||
    die "eca-acme.exe service install failed (see acme-svc.log)"
wait_state "$an" STOPPED 10 || die "$an was not created by service install"
wrun acme-svc net start "$an" || die "net start failed (see acme-svc.log)"
wait_state "$an" RUNNING 30 || die "$an did not reach RUNNING"
wait_file "$sa/out/cert.pem" 60 || die "the ACME service installed no certificate within 60 s"
sleep 1
verify "$sa/out/cert.pem" "$sa/out/key.pem" "$PEBBLE_ROOT"
# The metrics endpoint (eca_listen over Winsock), answered from the service's sleep.
for i in $(seq 50); do
    curl -fsS --max-time 5 "http://127.0.0.1:$mport/metrics" >"$IT_TMP/metrics.txt" 2>/dev/null &&
        grep -q 'eca_renewals_total{agent="eca-acme",cert="svc"} 1' "$IT_TMP/metrics.txt" && break
    sleep 0.2
done
grep -q 'eca_renewals_total{agent="eca-acme",cert="svc"} 1' "$IT_TMP/metrics.txt" ||
    die "the service's metrics endpoint did not report the renewal (see metrics.txt)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$mport/other")" = 404 ] ||
    die "the metrics endpoint did not answer 404 for another path"
wrun acme-svc "$ACME_EXE" service uninstall --name "$an" ||
    die "eca-acme.exe service uninstall failed (see acme-svc.log)"
wait_gone "$an" 20 || die "$an still exists after service uninstall"
SERVICES=()
log "eca-acme.exe as a service: service install, net start, certificate, metrics endpoint, service uninstall ($(($(date +%s) - s))s)"

# ---- 5. eca-acme.exe --once with the built-in http-01 listener (eca_listen over Winsock) ----
bg_stop http01 # the port is the listener's now
al=$IT_TMP/acme-listener
mkdir -p "$al/out" "$al/state"
s=$(date +%s)
CA_URL=$PEBBLE_DIR_URL CA_BUNDLE=$(w "$PEBBLE_TLS_CA") STATE_DIR=$(w "$al/state") \
    CERT_PATH=$(w "$al/out/cert.pem") KEY_PATH=$(w "$al/out/key.pem") DOMAIN_NAME=wine-listener.test \
    HTTP01_LISTEN=127.0.0.1:$PEBBLE_HTTP01_PORT LOG_LEVEL=debug wrun acme-listener "$ACME_EXE" --once ||
    die "eca-acme.exe --once with the listener failed (see acme-listener.log)"
verify "$al/out/cert.pem" "$al/out/key.pem" "$PEBBLE_ROOT"
log "eca-acme.exe --once (built-in listener): certificate verified ($(($(date +%s) - s))s)"
log "PASS"
