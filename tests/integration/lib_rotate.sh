#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers for the rotation scenarios (rotate_*.sh, on top of lib.sh): certificate identity,
# key/certificate pairing, served-certificate probes, waiting for an install.

ECA_EST=${ECA_EST:-$BUILD/eca-est}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# leaf_serial FILE: lower-case hex serial of the first certificate in FILE ("" if unreadable).
leaf_serial() {
    openssl x509 -in "$1" -noout -serial 2>/dev/null | sed 's/^serial=//' | tr 'A-F' 'a-f' || true
}

# leaf_not_after FILE: the first certificate's notAfter as a Unix time.
leaf_not_after() {
    date -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}

# leaf_not_before FILE: the first certificate's notBefore as a Unix time.
leaf_not_before() {
    date -d "$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')" +%s
}

# pair_matches CERT KEY: the first certificate in CERT carries the public key of KEY.
pair_matches() {
    local c k
    c=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    k=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
    [ -n "$c" ] && [ "$c" = "$k" ]
}

# start_tls_nginx CONF NAME PORT CERT KEY CONNS: nginx (master and one worker, in CONF's
# directory) serving NAME over TLS on 127.0.0.1:PORT from the CERT/KEY files, without session
# resumption (every handshake reads the installed pair); started with bg_start, port awaited.
start_tls_nginx() {
    local conf=$1 name=$2 port=$3 cert=$4 key=$5 conns=$6 n
    n=$(dirname "$conf")
    mkdir -p "$n/www"
    echo ok >"$n/www/index.html"
    cat >"$conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections $conns; }
http {
    access_log off;
    client_body_temp_path $n/body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        server_name $name;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_session_cache off;
        ssl_session_tickets off;
        root $n/www;
    }
}
CONF
    timeout 10 nginx -t -c "$conf" -e "$n/error.log" >"$n/nginx-t.log" 2>&1 ||
        die "nginx -t rejected the configuration: $(cat "$n/nginx-t.log")"
    bg_start nginx nginx -c "$conf" -e "$n/error.log"
    wait_for_port "$port" 20
}

# wait_serial_change FILE OLD SECS: until FILE's leaf serial is set and differs from OLD;
# prints the new serial. Fails after SECS.
wait_serial_change() {
    local f=$1 old=$2 secs=$3 s
    for _ in $(seq $((secs * 10))); do
        s=$(leaf_serial "$f")
        if [ -n "$s" ] && [ "$s" != "$old" ]; then
            echo "$s"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# served_serial PORT SNI [s_client options...]: serial of the leaf that 127.0.0.1:PORT serves.
served_serial() {
    local port=$1 sni=$2
    shift 2
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$sni" "$@" \
        </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null |
        sed 's/^serial=//' | tr 'A-F' 'a-f' || true
}

# wait_served PORT SNI WANT SECS [s_client options...]: until the served leaf serial is WANT.
wait_served() {
    local port=$1 sni=$2 want=$3 secs=$4 s=""
    shift 4
    for _ in $(seq $((secs * 5))); do
        s=$(served_serial "$port" "$sni" "$@")
        [ "$s" = "$want" ] && return 0
        sleep 0.2
    done
    log "served serial on $port is '$s', want '$want'"
    return 1
}

# wait_log FILE PATTERN SECS: until a line of FILE matches the fixed string PATTERN.
wait_log() {
    local f=$1 p=$2 secs=$3
    for _ in $(seq $((secs * 10))); do
        grep -qF -- "$p" "$f" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# count_log FILE PATTERN: how many lines of FILE contain the fixed string PATTERN.
count_log() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# alive PID: the process exists and is not a zombie (an exited child not yet waited for).
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop_pid PID [SECS]: TERM, wait up to SECS (default 10) for it to exit; 0 if it exited.
stop_pid() {
    local pid=$1 secs=${2:-10}
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq $((secs * 10))); do
        alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

# snapshot_bins: run copies of eca-acme and eca-est for the whole scenario, so that a rebuild
# in the tree meanwhile cannot swap (or half-write) the binary between two runs.
snapshot_bins() {
    mkdir -p "$IT_TMP/bin"
    if [ -x "$ECA_ACME" ]; then cp "$ECA_ACME" "$IT_TMP/bin/eca-acme" && ECA_ACME=$IT_TMP/bin/eca-acme; fi
    if [ -x "$ECA_EST" ]; then cp "$ECA_EST" "$IT_TMP/bin/eca-est" && ECA_EST=$IT_TMP/bin/eca-est; fi
}

# clean_agent_env: no variable of the environment contract is set, so that the scenario's
# configuration files alone decide (precedence: environment > file).
clean_agent_env() {
    unset CA_URL CA_BUNDLE STATE_DIR DOMAIN_NAME CERT_PATH KEY_PATH CHAIN_PATH RELOAD_COMMAND \
        RELOAD_TIMEOUT_SECONDS RELOAD_SIGNAL RELOAD_PID_FILE VERIFY VERIFY_NAME FORCE_RENEWAL \
        KEY_TYPE RENEWAL_THRESHOLD_PERCENT MAX_AGE_SECONDS CHECK_INTERVAL_SECONDS HTTP01_LISTEN \
        WEBROOT SUBJECT_DN SANS EST_USERNAME BOOTSTRAP_TOKEN BOOTSTRAP_TOKEN_FILE \
        BOOTSTRAP_CERT_PATH BOOTSTRAP_KEY_PATH CA_CERTS_PATH PFX_PATH PFX_PASSWORD_FILE \
        CRL_ENABLED CRL_URL METRICS_TEXTFILE METRICS_LISTEN LOG_LEVEL LOG_FORMAT INSECURE \
        ACME_PROVISIONER EST_PROVISIONER EAB_KID EAB_HMAC_KEY_FILE ISSUANCE_BUDGET \
        ISSUANCE_BUDGET_OVERRIDE
}
