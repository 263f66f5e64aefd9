#!/bin/sh
# SPDX-License-Identifier: MIT
# nginx next to the eca-acme sidecar: serve the http-01 webroot at once, enable HTTPS when
# the agent has installed a certificate, and reload whenever the certificate changes.
set -eu

cert=${CERT_PATH:-/certs/fullchain.pem}

# conf NAME: /etc/eca-nginx/NAME with the listen address and ports of the environment.
conf() {
    sed -e "s/@LISTEN_ADDR@/${LISTEN_ADDR:-0.0.0.0}/" -e "s/@HTTP_PORT@/${HTTP_PORT:-4212}/" \
        -e "s/@HTTPS_PORT@/${HTTPS_PORT:-4213}/" "/etc/eca-nginx/$1" >"/etc/nginx/conf.d/eca-$1"
}
conf http.conf

stamp() { stat -c %i.%Y "$cert" 2>/dev/null || echo none; }
render() {
    if [ -s "$cert" ]; then
        conf https.conf
    else
        rm -f /etc/nginx/conf.d/eca-https.conf
    fi
}

render
last=$(stamp)
nginx -g 'daemon off;' &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT
while kill -0 "$pid" 2>/dev/null; do
    sleep "${WATCH_SECONDS:-10}" &
    wait $! || true
    cur=$(stamp)
    if [ "$cur" != "$last" ]; then
        render
        if nginx -t -q; then
            nginx -s reload && echo "nginx: certificate changed, reloaded"
        fi
        last=$cur
    fi
done
wait "$pid"
