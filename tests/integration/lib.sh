#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared helpers for integration scenarios: ports, background processes killed by PID, a
# throwaway TLS CA, pebble + pebble-challtestsrv, and assertions on installed certificates.
#
# Usage (from a scenario):   . "$(dirname "$0")/lib.sh"; it_init
# Every process started with bg_start is killed by PID when the scenario exits.

set -euo pipefail

ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ECA_ROOT/$BUILD" ;; esac
ECA_ACME=${ECA_ACME:-$BUILD/eca-acme}
IT_PIDS=()
IT_TMP=

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# die also leaves a mark that it_cleanup reads: a trap that ends in `|| true` (or a subshell
# that died) cannot turn a failed scenario into exit 0.
die() {
    log "FAIL: $*"
    [ -n "${IT_FAILED_MARK:-}" ] && echo "$*" >>"$IT_FAILED_MARK"
    exit 1
}
# skip REASON: the scenario could not run here; exit 77 is reported as SKIP, never as PASS.
skip() {
    log "SKIP: $*"
    exit 77
}

# Create the scenario's temp dir and the exit trap.
it_init() {
    IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eca-it-XXXXXX")
    chmod 0755 "$IT_TMP"
    IT_FAILED_MARK=$IT_TMP/.failed
    export IT_FAILED_MARK
    trap 'it_cleanup $?' EXIT
    trap 'exit 130' INT TERM
}

# Kill every recorded PID (TERM, then KILL after 3 s), then remove the temp dir. The exit
# status is $1 when a wrapping trap passes it (under set -e, "(exit $rc)" would end the trap);
# a die() anywhere in the scenario makes it non-zero whatever the trap did before.
it_cleanup() {
    local rc=${1:-$?} pid i
    set +e
    if [ "$rc" = 0 ] && [ -s "${IT_FAILED_MARK:-/nonexistent}" ]; then
        log "verdict: FAIL (die was called: $(head -n 1 "$IT_FAILED_MARK"))"
        rc=1
    fi
    for pid in "${IT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${IT_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" != 0 ] && [ -n "$IT_TMP" ]; then
        for f in "$IT_TMP"/*.log; do
            [ -e "$f" ] || continue
            echo "---- $(basename "$f") (last 30 lines) ----" >&2
            tail -n 30 "$f" >&2
        done
    fi
    if [ -n "$IT_TMP" ] && [ -z "${IT_KEEP:-}" ]; then rm -rf "$IT_TMP"; fi
    exit "$rc"
}

# Print a free loopback TCP port never handed out before in this scenario.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        if ! grep -qx -e "$p" "$IT_TMP/.ports" 2>/dev/null; then
            echo "$p" >>"$IT_TMP/.ports"
            echo "$p"
            return 0
        fi
    done
    die "no free port"
}

# wait_for_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_for_port() {
    local port=$1 secs=${2:-20} i
    for i in $(seq $((secs * 10))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    die "nothing listens on 127.0.0.1:$port after ${secs}s"
}

# bg_start NAME CMD...: run CMD in the background, output to $IT_TMP/NAME.log, PID recorded.
# The PID is also left in $BG_PID (no command substitution: the trap must see the array).
bg_start() {
    local name=$1
    shift
    "$@" >"$IT_TMP/$name.log" 2>&1 &
    BG_PID=$!
    IT_PIDS+=("$BG_PID")
    echo "$BG_PID" >"$IT_TMP/$name.pid"
}

# bg_stop NAME: kill one recorded process by its PID file.
bg_stop() {
    local pid
    pid=$(cat "$IT_TMP/$1.pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# make_tls_ca DIR: a throwaway CA (ca.pem) and a localhost/127.0.0.1 server pair
# (server.pem, server.key) signed by it, valid for one day.
make_tls_ca() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj "/CN=ECA throwaway test CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days 1 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
}

# start_pebble [--eab KID=B64URLKEY] [--validity SECONDS]
# Uses PEBBLE_PORT / PEBBLE_HTTP01_PORT when set (demo), free ports otherwise. Sets:
#   PEBBLE_DIR_URL   the ACME directory URL
#   PEBBLE_MGMT      https://127.0.0.1:<mgmt>
#   PEBBLE_TLS_CA    CA file for pebble's own HTTPS (the agent's CA_BUNDLE)
#   PEBBLE_ROOT      pebble's issuing root (for openssl verify)
#   PEBBLE_HTTP01_PORT  the port pebble validates http-01 on
#   CHALLTESTSRV     http://127.0.0.1:<port>, pebble-challtestsrv's management API (pebble's DNS)
start_pebble() {
    local eab="" validity="" dns mgmt tls cfg ctsmgmt
    while [ $# -gt 0 ]; do
        case "$1" in
        --eab) eab=$2; shift 2 ;;
        --validity) validity=$2; shift 2 ;;
        *) die "start_pebble: unknown option $1" ;;
        esac
    done
    command -v pebble >/dev/null || die "pebble not installed (scripts/deps.sh)"
    local port=${PEBBLE_PORT:-$(free_port)}
    PEBBLE_HTTP01_PORT=${PEBBLE_HTTP01_PORT:-$(free_port)}
    dns=$(free_port)
    mgmt=${PEBBLE_MGMT_PORT:-$(free_port)}
    tls=$(free_port)
    make_tls_ca "$IT_TMP/pebble-tls"
    cfg="$IT_TMP/pebble.json"
    {
        echo '{ "pebble": {'
        echo "  \"listenAddress\": \"127.0.0.1:$port\","
        echo "  \"managementListenAddress\": \"127.0.0.1:$mgmt\","
        echo "  \"certificate\": \"$IT_TMP/pebble-tls/server.pem\","
        echo "  \"privateKey\": \"$IT_TMP/pebble-tls/server.key\","
        echo "  \"httpPort\": $PEBBLE_HTTP01_PORT,"
        echo "  \"tlsPort\": $tls,"
        echo '  "ocspResponderURL": "",'
        [ -n "$validity" ] && echo "  \"certificateValidityPeriod\": $validity,"
        if [ -n "$eab" ]; then
            echo '  "externalAccountBindingRequired": true,'
            echo "  \"externalAccountMACKeys\": { \"${eab%%=*}\": \"${eab#*=}\" }"
        else
            echo '  "externalAccountBindingRequired": false'
        fi
        echo '} }'
    } >"$cfg"
    ctsmgmt=$(free_port)
    bg_start challtestsrv pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" \
        -tlsalpn01 "" -management "127.0.0.1:$ctsmgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=${PEBBLE_NONCEREJECT:-20} PEBBLE_AUTHZREUSE=0 \
        bg_start pebble pebble -config "$cfg" -dnsserver "127.0.0.1:$dns"
    wait_for_port "$port" 30
    wait_for_port "$mgmt" 30
    PEBBLE_DIR_URL="https://127.0.0.1:$port/dir"
    PEBBLE_MGMT="https://127.0.0.1:$mgmt"
    PEBBLE_TLS_CA="$IT_TMP/pebble-tls/ca.pem"
    PEBBLE_ROOT="$IT_TMP/pebble-root.pem"
    curl -sSf --max-time 10 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/roots/0" -o "$PEBBLE_ROOT" ||
        die "cannot fetch pebble root"
    CHALLTESTSRV="http://127.0.0.1:$ctsmgmt"
    export PEBBLE_DIR_URL PEBBLE_MGMT PEBBLE_TLS_CA PEBBLE_ROOT PEBBLE_HTTP01_PORT CHALLTESTSRV
    log "pebble up: $PEBBLE_DIR_URL (http-01 on $PEBBLE_HTTP01_PORT)"
}

# pebble_cert_status SERIALHEX: pebble's management view of a certificate (JSON).
pebble_cert_status() {
    curl -sS --max-time 10 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/cert-status-by-serial/$1"
}

# run_agent LOGNAME ARGS...: run eca-acme bounded in time, output (stdout+stderr) to a log.
run_agent() {
    local name=$1
    shift
    timeout 120 "$ECA_ACME" "$@" >"$IT_TMP/$name.log" 2>&1
}

# Split a PEM bundle: first certificate to $2, the rest to $3.
split_fullchain() {
    awk -v a="$2" -v b="$3" 'BEGIN{n=0} /-----BEGIN CERTIFICATE-----/{n++} {print > (n<=1 ? a : b)}' "$1"
}

cert_serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'; }

# assert_installed CERT KEY NAME...: fullchain verifies against pebble's root, SANs are
# exactly NAME..., key matches the certificate, modes 0600 key / 0644 cert.
assert_installed() {
    local cert=$1 key=$2
    shift 2
    [ -s "$cert" ] || die "no certificate at $cert"
    [ -s "$key" ] || die "no key at $key"
    split_fullchain "$cert" "$IT_TMP/leaf.pem" "$IT_TMP/issuers.pem"
    [ -s "$IT_TMP/issuers.pem" ] || die "$cert holds no issuer chain (not a full chain)"
    openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$IT_TMP/issuers.pem" "$IT_TMP/leaf.pem" \
        >/dev/null || die "openssl verify failed for $cert"
    local want got
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -in "$IT_TMP/leaf.pem" -noout -ext subjectAltName | tail -n +2 |
        tr ',' '\n' | sed 's/^ *DNS://; s/^ *IP Address://' | sed 's/^ *//' | grep -v '^$' |
        sort | tr '\n' ' ')
    [ "$want" = "$got" ] || die "SANs: want '$want', got '$got'"
    [ "$(openssl x509 -in "$IT_TMP/leaf.pem" -noout -pubkey)" = \
        "$(openssl pkey -in "$key" -pubout)" ] || die "key $key does not match $cert"
    [ "$(stat -c %a "$key")" = 600 ] || die "key mode $(stat -c %a "$key"), want 600"
    [ "$(stat -c %a "$cert")" = 644 ] || die "cert mode $(stat -c %a "$cert"), want 644"
    log "installed OK: $cert ($*)"
}

# agent_env DIR: the environment contract for one certificate under DIR, pointed at pebble.
agent_env() {
    local d=$1
    export CA_URL="$PEBBLE_DIR_URL" CA_BUNDLE="$PEBBLE_TLS_CA" STATE_DIR="$d/state"
    export CERT_PATH="$d/out/cert.pem" KEY_PATH="$d/out/key.pem" CHAIN_PATH="$d/out/chain.pem"
    export LOG_LEVEL=debug
    mkdir -p "$d/out"
}

# start_acme_proxy CONTROL_JSON: tests/support/acme_ari_proxy.py in front of pebble (renewalInfo,
# profiles and faults pebble 2.4 lacks, steered by a control file). Sets PROXY_DIR_URL, the
# directory through it; PROXY_LOG, one JSON line per request; PROXY_ROOT, the root of the
# certificates it re-signs for profiles with a validity; proxy_control JSON rewrites the
# control file.
start_acme_proxy() {
    local port upstream
    port=$(free_port)
    PROXY_CONTROL=$IT_TMP/proxy-control.json
    PROXY_LOG=$IT_TMP/proxy-requests.jsonl
    PROXY_ROOT=$IT_TMP/proxy-root.pem
    : >"$PROXY_LOG"
    proxy_control "$1"
    upstream=${PEBBLE_DIR_URL#https://127.0.0.1:}
    upstream=${upstream%%/*}
    bg_start proxy python3 "$ECA_ROOT/tests/support/acme_ari_proxy.py" --port "$port" \
        --cert "$IT_TMP/pebble-tls/server.pem" --key "$IT_TMP/pebble-tls/server.key" \
        --upstream-port "$upstream" --upstream-ca "$PEBBLE_TLS_CA" --control "$PROXY_CONTROL" \
        --log "$PROXY_LOG" --resign-root "$PROXY_ROOT"
    wait_for_port "$port" 20
    PROXY_DIR_URL="https://127.0.0.1:$port/dir"
}
proxy_control() { printf '%s\n' "$1" >"$PROXY_CONTROL"; }
