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

# stack_ports_fixed: the demo's ports (DESIGN.md, "The local stack").
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

# stack_ports_check: fail, naming the port and its owner, if any stack port is taken.
stack_ports_check() {
    local p busy=0
    for p in "$ACME_PORT" "$CRL_PORT" "$HTTP01_PORT" "$NGINX_PORT" "$MQTT_PORT" "$EST_PORT" \
        "$METRICS_ACME_PORT" "$METRICS_EST_PORT"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            log "port 127.0.0.1:$p is in use: $(ss -Hltnp "sport = :$p" 2>/dev/null | awk '{print $NF}' | head -n 1)"
            busy=1
        fi
    done
    [ "$busy" = 0 ] || die "stack ports busy (another demo running? stop it with Ctrl-C)"
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
stack_nginx_conf() {
    local n=$STACK_DIR/nginx
    mkdir -p "$n/tmp" "$STACK_DIR/webroot/.well-known/acme-challenge"
    {
        cat <<CONF
worker_processes 1;
daemon off;
pid $n/nginx.pid;
error_log $n/error.log info;
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

# stack_start_nginx: nginx in the foreground (master PID = bg_start's PID = nginx.pid).
stack_start_nginx() {
    stack_nginx_conf
    NGINX_PID_FILE=$STACK_DIR/nginx/nginx.pid
    bg_start nginx nginx -p "$STACK_DIR/nginx/" -e "$STACK_DIR/nginx/error.log" \
        -c "$STACK_DIR/nginx/nginx.conf"
    wait_for_port "$HTTP01_PORT" 20
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
    PEBBLE_PORT=$ACME_PORT PEBBLE_HTTP01_PORT=$HTTP01_PORT start_pebble --validity "$1"
    stack_start_est_ca "$2"
    stack_start_nginx
    log "nginx serves http-01 challenges from $STACK_DIR/webroot on 127.0.0.1:$HTTP01_PORT"
    # First issuance with --once and no reload actions: nginx has no HTTPS server yet and
    # Mosquitto cannot start without its certificate.
    stack_acme_conf "$STACK_DIR/eca-acme-first.conf" noreload
    timeout 120 "$ECA_ACME" --config "$STACK_DIR/eca-acme-first.conf" --once \
        >>"$STACK_DIR/eca-acme-first.log" 2>&1 || die "first ACME issuance failed (eca-acme-first.log)"
    log "eca-acme issued $WEB_NAME, $MQTT_NAME and $MINIO_NAME"
    stack_nginx_enable_https
    stack_start_mosquitto
    stack_acme_conf "$ACME_CONF"
    # shellcheck disable=SC2046
    bg_start eca-acme env $(stack_metrics_env acme) "$ECA_ACME" --config "$ACME_CONF"
    ECA_ACME_PID=$BG_PID
    umask 077
    printf 'demo-pfx-%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$CLIENT_PFX_PASS"
    umask 022
    stack_est_conf "$EST_CONF"
    # shellcheck disable=SC2046
    bg_start eca-est env $(stack_metrics_env est) "$ECA_EST" --config "$EST_CONF"
    ECA_EST_PID=$BG_PID
    wait_file "$CLIENT_CERT" 30 && wait_file "$CLIENT_PFX" 30 ||
        die "eca-est did not enroll the client identities (eca-est.log)"
    log "eca-est enrolled client-pem and client-pfx"
    stack_write_env
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
