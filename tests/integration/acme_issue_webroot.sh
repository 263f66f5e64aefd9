#!/bin/bash
# SPDX-License-Identifier: MIT
# eca-acme answers http-01 through WEBROOT files served by a real nginx on pebble's port.
. "$(dirname "$0")/lib.sh"
it_init
command -v nginx >/dev/null || die "nginx not installed (scripts/deps.sh)"
start_pebble

www=$IT_TMP/www
mkdir -p "$www" "$IT_TMP/nginx/logs"
chmod 0755 "$www" "$IT_TMP/nginx"
cat >"$IT_TMP/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $IT_TMP/nginx/nginx.pid;
error_log $IT_TMP/nginx/logs/error.log;
events { worker_connections 64; }
http {
    access_log $IT_TMP/nginx/logs/access.log;
    client_body_temp_path $IT_TMP/nginx/body;
    proxy_temp_path $IT_TMP/nginx/proxy;
    fastcgi_temp_path $IT_TMP/nginx/fastcgi;
    uwsgi_temp_path $IT_TMP/nginx/uwsgi;
    scgi_temp_path $IT_TMP/nginx/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:$PEBBLE_HTTP01_PORT;
        root $www;
    }
}
NGX
bg_start nginx nginx -p "$IT_TMP/nginx" -c "$IT_TMP/nginx/nginx.conf"
wait_for_port "$PEBBLE_HTTP01_PORT" 20

d=$IT_TMP/agent
agent_env "$d"
export DOMAIN_NAME=webroot.test WEBROOT="$www"
run_agent issue --once || die "eca-acme --once exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" webroot.test
grep -q 'acme-challenge' "$IT_TMP/nginx/logs/access.log" || die "nginx served no challenge"
left=$(find "$www/.well-known/acme-challenge" -type f | wc -l)
[ "$left" = 0 ] || die "$left challenge file(s) left in the webroot"
log "PASS"
