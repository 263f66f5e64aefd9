#!/bin/bash
# SPDX-License-Identifier: MIT
# Nothing bad is installed: a canned ACME CA (fake_acme_ca.py; pebble cannot issue these) hands
# out a certificate that expired a year ago, one not valid before tomorrow, and one whose
# signature does not come from the intermediate it names. Each pass fails with the reason and
# the installed pair stays byte-identical; the same CA's good certificate is installed (control).
. "$(dirname "$0")/lib.sh"
it_init
command -v python3 >/dev/null || die "python3 not installed"
make_tls_ca "$IT_TMP/tls"

d=$IT_TMP/agent
mkdir -p "$d/out"
export CA_BUNDLE="$IT_TMP/tls/ca.pem" STATE_DIR="$d/state" LOG_LEVEL=debug
export CERT_PATH="$d/out/cert.pem" KEY_PATH="$d/out/key.pem" DOMAIN_NAME=bad.test
HTTP01_LISTEN="127.0.0.1:$(free_port)"
export HTTP01_LISTEN
# The installed pair: valid, matching, for the configured name.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=bad.test" -addext subjectAltName=DNS:bad.test \
    -keyout "$KEY_PATH" -out "$CERT_PATH" 2>/dev/null
chmod 600 "$KEY_PATH"
chmod 644 "$CERT_PATH"
before=$(sha256sum "$CERT_PATH" "$KEY_PATH")

# run_mode MODE: a fresh fake CA in MODE, one forced pass against it; sets rc.
run_mode() {
    local mode=$1 port
    port=$(free_port)
    bg_start "ca-$mode" python3 "$ECA_ROOT/tests/integration/fake_acme_ca.py" --port "$port" \
        --tls-cert "$IT_TMP/tls/server.pem" --tls-key "$IT_TMP/tls/server.key" --mode "$mode"
    wait_for_port "$port"
    export CA_URL="https://127.0.0.1:$port/dir"
    rc=0
    run_agent "agent-$mode" --once --force </dev/null || rc=$?
    bg_stop "ca-$mode"
}

for m in expired:"expired at" future:"is not valid before" badlink:"is not signed by the next"; do
    mode=${m%%:*} want=${m#*:}
    run_mode "$mode"
    [ "$rc" = 1 ] || die "$mode: exit $rc, want 1"
    grep -q "issued certificate refused, nothing installed: .*$want" "$IT_TMP/agent-$mode.log" ||
        die "$mode: no refusal saying '$want'"
    grep -q '"event":"cert_installed"' "$IT_TMP/agent-$mode.log" && die "$mode: something was installed"
    [ "$(sha256sum "$CERT_PATH" "$KEY_PATH")" = "$before" ] || die "$mode: installed pair changed"
    ls "$d/out"/*.new "$d/out"/.*tmp-* >/dev/null 2>&1 && die "$mode: staged files left behind"
    log "$mode: refused, pair byte-identical"
done

# Control: the same CA, a good certificate, is installed (the checks accept a sound chain).
run_mode good
[ "$rc" = 0 ] || die "good: exit $rc, want 0"
[ "$(sha256sum "$CERT_PATH" "$KEY_PATH")" != "$before" ] || die "good: nothing installed"
openssl x509 -in "$CERT_PATH" -noout -issuer | grep -q "Fake ACME Intermediate" ||
    die "good: not the fake CA's certificate"
[ "$(openssl x509 -in "$CERT_PATH" -noout -pubkey)" = "$(openssl pkey -in "$KEY_PATH" -pubout)" ] ||
    die "good: key does not match"
log "PASS"
