#!/bin/bash
# SPDX-License-Identifier: MIT
# The local stack, as functions shared by target-demo/demo.sh (fixed ports) and
# scripts/integration-test.sh (ports picked at run time): pebble, the demo EST CA and its CRL,
# nginx, Mosquitto, eca-acme and eca-est as daemons, and the demo mTLS/MQTT client.
#
# Usage:  . target-demo/stack.sh; it_init (or set IT_TMP); stack_ports_fixed|stack_ports_free;
#         stack_up ACME_VALIDITY_S EST_VALIDITY_S
# Every process is started with lib.sh's bg_start, so the caller's exit trap kills it by PID.
# Everything the stack writes lives under $STACK_DIR (= $IT_TMP); $STACK_DIR/stack.env
# describes a running stack for `scripts/integration-test.sh --test-only`.

STACK_SH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$STACK_SH_DIR/../tests/integration/lib.sh"
. "$STACK_SH_DIR/../tests/integration/lib_estca.sh"
. "$STACK_SH_DIR/../tests/integration/lib_est.sh"

# Names on the ACME certificates (pebble's DNS, challtestsrv, answers 127.0.0.1 for all).
WEB_NAME=web.eca.test
MQTT_NAME=mqtt.eca.test
MINIO_NAME=s3.eca.test

# stack_ports_fixed: the demo's ports (target-demo/README.md has the table).
stack_ports_fixed() {
    ACME_PORT=4210 CRL_PORT=4211 HTTP01_PORT=4212 NGINX_PORT=4213 MQTT_PORT=4214
    EST_PORT=4222 METRICS_ACME_PORT=4231 METRICS_EST_PORT=4232
}

# stack_ports_free: loopback ports picked at run time (tests never collide with a demo).
stack_ports_free() {
    ACME_PORT=$(free_port) CRL_PORT=$(free_port) HTTP01_PORT=$(free_port)
    NGINX_PORT=$(free_port) MQTT_PORT=$(free_port) EST_PORT=$(free_port)
    METRICS_ACME_PORT=$(free_port) METRICS_EST_PORT=$(free_port)
}

# port_holder PORT: who listens on a TCP port that 127.0.0.1:PORT cannot be bound beside
# (127.0.0.1, a wildcard, or IPv4-mapped loopback): "name (pid N: command line)" per process,
# or a hint when ss cannot see the owner (a socket of another user, seen without root).
# Empty when nobody listens there.
port_holder() {
    local p=$1 rows pids="" pid out=""
    rows=$(ss -Hltnp 2>/dev/null | awk -v p="$p" '{
        n = split($4, a, ":"); addr = substr($4, 1, length($4) - length(a[n]) - 1)
        if (a[n] == p && (addr ~ /^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]|\[::ffff:127\.0\.0\.1\])(%.*)?$/)) print
    }')
    if [ -z "$rows" ]; then
        # No ss, or a listener ss does not list: a connection still proves the port is taken.
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || return 0
        command -v fuser >/dev/null && pids=$(fuser -n tcp "$p" 2>/dev/null)
    else
        pids=$(grep -o 'pid=[0-9]*' <<<"$rows" | cut -d= -f2)
    fi
    for pid in $(printf '%s\n' $pids | sort -un); do
        out="$out${out:+, }$(cat "/proc/$pid/comm" 2>/dev/null || echo '?') (pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100 | sed 's/ *$//'))"
    done
    echo "${out:-a process this user cannot see (try: sudo ss -ltnp 'sport = :$p')}"
}

# stack_ports_check [PORT...]: fail, naming each busy port and the process holding it, if a
# stack port (or an extra PORT) is taken.
stack_ports_check() {
    local p who busy=0
    for p in "$ACME_PORT" "$CRL_PORT" "$HTTP01_PORT" "$NGINX_PORT" "$MQTT_PORT" "$EST_PORT" \
        "$METRICS_ACME_PORT" "$METRICS_EST_PORT" "$@"; do
        who=$(port_holder "$p")
        [ -n "$who" ] || continue
        log "port 127.0.0.1:$p is in use by $who"
        busy=1
    done
    [ "$busy" = 0 ] || die "stack ports busy (another demo? stop it with Ctrl-C, or stop the process named above)"
}

# stack_step WHAT LOG...: what the stack is doing now and the logs (under $STACK_DIR, or
# absolute) that would hold the cause if it fails; stack_why prints them.
STACK_STEP='' STACK_STEP_LOGS=()
stack_step() {
    STACK_STEP=$1
    shift
    STACK_STEP_LOGS=("$@")
}

# stack_why: after a failure, where it happened and the end of each log that holds the cause
# (nginx: its error and warning lines first, they drown among notices).
stack_why() {
    local f
    [ -n "$STACK_STEP" ] || return 0
    echo "== failed while $STACK_STEP; the cause is in:" >&2
    for f in "${STACK_STEP_LOGS[@]}"; do
        case "$f" in /*) ;; *) f=$STACK_DIR/$f ;; esac
        if [ ! -s "$f" ]; then
            echo "---- $f (empty or missing)" >&2
            continue
        fi
        echo "---- $f (last lines)" >&2
        case "$f" in
        */nginx.log) grep -E '\[(warn|error|crit|alert|emerg)\]' "$f" | tail -n 10 >&2 ||
            tail -n 20 "$f" >&2 ;;
        *) tail -n 20 "$f" >&2 ;;
        esac
    done
}

# stack_prereqs: every program the stack needs, and the built agents.
stack_prereqs() {
    local c missing=""
    for c in pebble pebble-challtestsrv nginx mosquitto mosquitto_pub mosquitto_sub openssl \
        curl python3; do
        command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
    done
    python3 -c 'import cryptography' 2>/dev/null || missing="$missing python3-cryptography"
    [ -z "$missing" ] || die "missing:$missing (run scripts/deps.sh as root, or make deps)"
    [ -x "$ECA_ACME" ] || die "$ECA_ACME not built (run make)"
    [ -x "$ECA_EST" ] || die "$ECA_EST not built (run make)"
}

# stack_start_est_ca VALIDITY_S: init the demo EST CA in $STACK_DIR/est-ca and serve EST on
# $EST_PORT and the CRL on $CRL_PORT. Sets the variables lib_estca.sh's start_est_ca sets.
stack_start_est_ca() {
    EST_CA_DIR=$STACK_DIR/est-ca
    est_ca init --dir "$EST_CA_DIR" --validity-seconds "$1" --crl-next-update-seconds 120 \
        2>>"$STACK_DIR/est-ca-init.log" || die "est_ca.py init failed (see est-ca-init.log)"
    bg_start est-ca "$EST_PYTHON" "$EST_CA_PY" serve --dir "$EST_CA_DIR" \
        --listen "127.0.0.1:$EST_PORT" --crl-listen "127.0.0.1:$CRL_PORT"
    EST_CA_PID=$BG_PID
    local i
    for i in $(seq 100); do
        [ -s "$EST_CA_DIR/serve.json" ] && break
        kill -0 "$EST_CA_PID" 2>/dev/null || die "est_ca.py serve exited (see est-ca.log)"
        sleep 0.1
    done
    [ -s "$EST_CA_DIR/serve.json" ] || die "est_ca.py serve did not start within 10 s"
    EST_BASE="https://127.0.0.1:$EST_PORT"
    EST_URL="$EST_BASE/.well-known/est"
    EST_CRL_PORT=$CRL_PORT
    EST_CRL_URL="http://127.0.0.1:$CRL_PORT/crl.der"
    EST_ROOT="$EST_CA_DIR/root-ca.pem"
    EST_USER=$(cut -d: -f1 "$EST_CA_DIR/tokens" | head -n 1)
    EST_TOKEN_FILE="$EST_CA_DIR/bootstrap-token"
    log "EST CA up: $EST_URL (client certificates valid $1 s), CRL $EST_CRL_URL"
}

# stack_nginx_conf: http-01 webroot on $HTTP01_PORT; once the ACME certificate exists, also
# HTTPS on $NGINX_PORT with /mtls requiring a client certificate from the EST CA.
# Started by root, nginx's workers would run as nobody, who cannot read a webroot in a clone
# under /root (0700): they run as the invoking user instead, like every other process of the
# stack, so the stack works wherever the clone lives and no file leaves the clone's directory.
# Every message goes to stderr, i.e. nginx.log.
stack_nginx_conf() {
    local n=$STACK_DIR/nginx
    mkdir -p "$n/tmp" "$STACK_DIR/webroot/.well-known/acme-challenge"
    {
        [ "$(id -u)" = 0 ] && echo "user $(id -un) $(id -gn);"
        cat <<CONF
worker_processes 1;
daemon off;
pid $n/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log $n/access.log;
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$HTTP01_PORT;
        location /.well-known/acme-challenge/ { root $STACK_DIR/webroot; }
        location / { return 404; }
    }
CONF
        if [ -s "$WEB_CERT" ]; then
            cat <<CONF
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        server_name $WEB_NAME;
        ssl_certificate $WEB_CERT;
        ssl_certificate_key $WEB_KEY;
        ssl_client_certificate $STACK_DIR/est-ca/ca-chain.pem;
        ssl_verify_client optional;
        ssl_verify_depth 2;
        location = /mtls {
            if (\$ssl_client_verify != SUCCESS) { return 403 "client certificate required\n"; }
            return 200 "mtls ok serial=\$ssl_client_serial dn=\$ssl_client_s_dn\n";
        }
        location / { return 200 "hello from nginx; certificate managed by eca-acme\n"; }
    }
CONF
        fi
        echo '}'
    } >"$n/nginx.conf"
}

# stack_start_nginx: nginx in the foreground (master PID = bg_start's PID = nginx.pid), then
# a file in the webroot fetched over http-01's port, as the CA will: an unreadable webroot
# shows here, with nginx's own reason, rather than as a 403 from the CA.
stack_start_nginx() {
    local probe code
    stack_nginx_conf
    NGINX_PID_FILE=$STACK_DIR/nginx/nginx.pid
    bg_start nginx nginx -p "$STACK_DIR/nginx/" -e stderr -c "$STACK_DIR/nginx/nginx.conf"
    wait_for_port "$HTTP01_PORT" 20
    probe=stack-probe-$$
    echo ok >"$STACK_DIR/webroot/.well-known/acme-challenge/$probe"
    chmod 0644 "$STACK_DIR/webroot/.well-known/acme-challenge/$probe"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
        "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-challenge/$probe")
    rm -f "$STACK_DIR/webroot/.well-known/acme-challenge/$probe"
    [ "$code" = 200 ] || die "nginx answers $code, not 200, for a file in the http-01 webroot $STACK_DIR/webroot"
}

# stack_nginx_enable_https: rewrite the config with the HTTPS server and reload (HUP).
stack_nginx_enable_https() {
    stack_nginx_conf
    kill -HUP "$(cat "$NGINX_PID_FILE")"
    wait_for_port "$NGINX_PORT" 20
}

# stack_acme_conf FILE [noreload]: eca-acme's configuration: nginx's and Mosquitto's
# certificates (reloaded by SIGHUP to their pid files) and a MinIO-layout directory.
stack_acme_conf() {
    local reload=1
    [ "${2:-}" = noreload ] && reload=0
    cat >"$1" <<CONF
# eca-acme configuration generated by target-demo/stack.sh
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$STACK_DIR/eca-acme-state";
webroot = "$STACK_DIR/webroot";
tos_agreed = true;
check_interval_seconds = 60;
log_level = "info";
log_format = "json";
certificates = (
  { name = "nginx"; domains = [ "$WEB_NAME" ];
    cert_path = "$WEB_CERT"; key_path = "$WEB_KEY"; chain_path = "$STACK_DIR/acme/nginx/chain.pem";
$([ $reload = 1 ] && echo "    reload_signal = \"HUP\"; reload_pid_file = \"$NGINX_PID_FILE\";")
  },
  { name = "mosquitto"; domains = [ "$MQTT_NAME", "localhost" ];
    cert_path = "$MQTT_CERT"; key_path = "$MQTT_KEY";
$([ $reload = 1 ] && echo "    reload_signal = \"HUP\"; reload_pid_file = \"$STACK_DIR/mosquitto.pid\";")
  },
  { name = "minio"; domains = [ "$MINIO_NAME" ]; layout = "minio";
    directory = "$MINIO_DIR";
  }
);
CONF
}

# stack_est_conf FILE: eca-est's configuration: two client identities, PEM and .pfx.
stack_est_conf() {
    cat >"$1" <<CONF
# eca-est configuration generated by target-demo/stack.sh
ca_url = "$EST_BASE";
ca_bundle = "$EST_ROOT";
state_dir = "$STACK_DIR/eca-est-state";
est_username = "$EST_USER";
bootstrap_token_file = "$EST_TOKEN_FILE";
crl_enabled = true;
check_interval_seconds = 60;
log_level = "info";
log_format = "json";
certificates = (
  { name = "client-pem"; subject_dn = "CN=demo-client-pem,O=ECA demo";
    sans = [ "client-pem.eca.test" ];
    cert_path = "$CLIENT_CERT"; key_path = "$CLIENT_KEY";
    chain_path = "$STACK_DIR/est/client-pem/chain.pem";
    ca_certs_path = "$STACK_DIR/est/client-pem/est-ca.pem";
  },
  { name = "client-pfx"; subject_dn = "CN=demo-client-pfx,O=ECA demo";
    sans = [ "client-pfx.eca.test" ];
    cert_path = "$STACK_DIR/est/client-pfx/cert.pem"; key_path = "$STACK_DIR/est/client-pfx/key.pem";
    pfx_path = "$CLIENT_PFX"; pfx_password_file = "$CLIENT_PFX_PASS";
    pfx_friendly_name = "demo-client-pfx";
  }
);
CONF
}

# stack_paths: where the managed certificates live.
stack_paths() {
    WEB_CERT=$STACK_DIR/acme/nginx/fullchain.pem WEB_KEY=$STACK_DIR/acme/nginx/key.pem
    MQTT_CERT=$STACK_DIR/acme/mosquitto/fullchain.pem MQTT_KEY=$STACK_DIR/acme/mosquitto/key.pem
    MINIO_DIR=$STACK_DIR/minio/certs
    CLIENT_CERT=$STACK_DIR/est/client-pem/cert.pem CLIENT_KEY=$STACK_DIR/est/client-pem/key.pem
    CLIENT_PFX=$STACK_DIR/est/client-pfx/client.pfx
    CLIENT_PFX_PASS=$STACK_DIR/est/client-pfx/pfx-password
    ACME_CONF=$STACK_DIR/eca-acme.conf EST_CONF=$STACK_DIR/eca-est.conf
    mkdir -p "$STACK_DIR/acme/nginx" "$STACK_DIR/acme/mosquitto" "$MINIO_DIR" \
        "$STACK_DIR/est/client-pem" "$STACK_DIR/est/client-pfx"
}

# stack_start_mosquitto: TLS with the ACME certificate; clients must present an EST certificate.
stack_start_mosquitto() {
    cat >"$STACK_DIR/mosquitto.conf" <<CONF
user $(id -un)
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
listener $MQTT_PORT 127.0.0.1
certfile $MQTT_CERT
keyfile $MQTT_KEY
cafile $STACK_DIR/est-ca/ca-chain.pem
require_certificate true
use_identity_as_username true
allow_anonymous false
CONF
    bg_start mosquitto mosquitto -c "$STACK_DIR/mosquitto.conf"
    wait_for_port "$MQTT_PORT" 20
}

# stack_metrics_env acme|est: ask the agents for metrics (env names only; harmless if unknown).
# `env` execs the agent, so bg_start's PID is the agent's.
stack_metrics_env() {
    case "$1" in
    acme) echo "METRICS_TEXTFILE=$STACK_DIR/metrics/eca-acme.prom METRICS_LISTEN=127.0.0.1:$METRICS_ACME_PORT" ;;
    est) echo "METRICS_TEXTFILE=$STACK_DIR/metrics/eca-est.prom METRICS_LISTEN=127.0.0.1:$METRICS_EST_PORT" ;;
    esac
}

# wait_file FILE SECONDS: until FILE exists and is not empty.
wait_file() {
    local i
    for i in $(seq $(($2 * 10))); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# stack_up ACME_VALIDITY_S EST_VALIDITY_S: everything, in dependency order.
stack_up() {
    STACK_DIR=$IT_TMP
    stack_paths
    mkdir -p "$STACK_DIR/metrics"
    stack_step "starting pebble (ACME CA)" pebble.log challtestsrv.log
    PEBBLE_PORT=$ACME_PORT PEBBLE_HTTP01_PORT=$HTTP01_PORT start_pebble --validity "$1"
    stack_step "starting the EST CA" est-ca-init.log est-ca.log
    stack_start_est_ca "$2"
    stack_step "starting nginx (http-01 webroot)" nginx.log
    stack_start_nginx
    log "nginx serves http-01 challenges from $STACK_DIR/webroot on 127.0.0.1:$HTTP01_PORT"
    # First issuance with --once and no reload actions: nginx has no HTTPS server yet and
    # Mosquitto cannot start without its certificate.
    stack_step "issuing the first ACME certificates" eca-acme-first.log nginx.log pebble.log
    stack_acme_conf "$STACK_DIR/eca-acme-first.conf" noreload
    timeout 120 "$ECA_ACME" --config "$STACK_DIR/eca-acme-first.conf" --once \
        >>"$STACK_DIR/eca-acme-first.log" 2>&1 || die "first ACME issuance failed (eca-acme-first.log)"
    log "eca-acme issued $WEB_NAME, $MQTT_NAME and $MINIO_NAME"
    stack_step "enabling nginx's HTTPS server" nginx.log
    stack_nginx_enable_https
    stack_step "starting Mosquitto" mosquitto.log
    stack_start_mosquitto
    stack_step "starting the eca-acme daemon" eca-acme.log
    stack_acme_conf "$ACME_CONF"
    # shellcheck disable=SC2046
    bg_start eca-acme env $(stack_metrics_env acme) "$ECA_ACME" --config "$ACME_CONF"
    ECA_ACME_PID=$BG_PID
    umask 077
    printf 'demo-pfx-%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$CLIENT_PFX_PASS"
    umask 022
    stack_step "enrolling the client identities with eca-est" eca-est.log est-ca.log
    stack_est_conf "$EST_CONF"
    # shellcheck disable=SC2046
    bg_start eca-est env $(stack_metrics_env est) "$ECA_EST" --config "$EST_CONF"
    ECA_EST_PID=$BG_PID
    wait_file "$CLIENT_CERT" 30 && wait_file "$CLIENT_PFX" 30 ||
        die "eca-est did not enroll the client identities (eca-est.log)"
    log "eca-est enrolled client-pem and client-pfx"
    stack_write_env
    stack_step ""
}

# stack_start_client: the demo client loop (target-demo/demo-client.sh).
stack_start_client() {
    bg_start demo-client bash "$STACK_SH_DIR/demo-client.sh" "$STACK_DIR/stack.env"
    CLIENT_PID=$BG_PID
    stack_write_env
}

# stack_write_env: everything a later --test-only run or the client needs.
stack_write_env() {
    local v f=$STACK_DIR/stack.env
    for v in STACK_DIR ACME_PORT CRL_PORT HTTP01_PORT NGINX_PORT MQTT_PORT EST_PORT \
        METRICS_ACME_PORT METRICS_EST_PORT WEB_NAME MQTT_NAME MINIO_NAME \
        PEBBLE_DIR_URL PEBBLE_MGMT PEBBLE_TLS_CA PEBBLE_ROOT PEBBLE_HTTP01_PORT \
        EST_CA_DIR EST_BASE EST_URL EST_CRL_URL EST_CRL_PORT EST_ROOT EST_USER EST_TOKEN_FILE \
        WEB_CERT WEB_KEY MQTT_CERT MQTT_KEY MINIO_DIR CLIENT_CERT CLIENT_KEY CLIENT_PFX \
        CLIENT_PFX_PASS ACME_CONF EST_CONF NGINX_PID_FILE ECA_ACME_PID ECA_EST_PID EST_CA_PID \
        CLIENT_PID; do
        printf '%s=%q\n' "$v" "${!v:-}"
    done >"$f.tmp"
    printf 'STACK_PIDS=%q\n' "${IT_PIDS[*]}" >>"$f.tmp"
    mv -f "$f.tmp" "$f" # replaced whole: the client may be reading it
}

# served_serial PORT SNI: the serial of the certificate a TLS server presents (lower-case hex).
served_serial() {
    timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername "$2" </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' | tr 'A-F' 'a-f'
}

# cert_left FILE: seconds of lifetime left (negative when expired); empty if unreadable.
cert_left() {
    local na
    na=$(openssl x509 -in "$1" -noout -enddate 2>/dev/null | sed 's/^notAfter=//') || return 0
    [ -n "$na" ] && echo $(($(date -d "$na" +%s) - $(date +%s)))
}

# cert_lifetime FILE: total validity in seconds.
cert_lifetime() {
    local nb na
    nb=$(openssl x509 -in "$1" -noout -startdate 2>/dev/null | sed 's/^notBefore=//')
    na=$(openssl x509 -in "$1" -noout -enddate 2>/dev/null | sed 's/^notAfter=//')
    [ -n "$nb" ] && [ -n "$na" ] && echo $(($(date -d "$na" +%s) - $(date -d "$nb" +%s)))
}

# pfx_serial FILE PASSFILE: the serial of the leaf in a PKCS#12 file.
pfx_serial() {
    openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//' | tr 'A-F' 'a-f'
}
