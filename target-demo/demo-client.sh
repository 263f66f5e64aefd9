#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo client: forever, an mTLS request to nginx's /mtls with the .pfx identity and an
# MQTT publish + subscribe through Mosquitto with the PEM identity, always with whatever
# certificate eca-est has installed right now. Counts go to $STACK_DIR/client/counts.
#
# Usage: demo-client.sh STACK_ENV   (written by target-demo/stack.sh; TERM stops it)
set -u
. "$1"
D=$STACK_DIR/client
mkdir -p "$D"
CLIENT_INTERVAL=${CLIENT_INTERVAL:-1}
https_ok=0 https_fail=0 mqtt_ok=0 mqtt_fail=0 n=0
child=

trap 'exit 0' TERM INT
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; rm -f "$D"/snap.*' EXIT

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

write_counts() {
    printf 'https_ok=%d\nhttps_fail=%d\nmqtt_ok=%d\nmqtt_fail=%d\n' \
        "$https_ok" "$https_fail" "$mqtt_ok" "$mqtt_fail" >"$D/counts.tmp"
    mv -f "$D/counts.tmp" "$D/counts"
}

# The password goes to curl through a config file (0600), not the command line.
curl_conf() {
    umask 077
    printf 'cert = "%s:%s"\ncert-type = "P12"\n' "$CLIENT_PFX" "$(head -n 1 "$CLIENT_PFX_PASS")" \
        >"$D/curl.conf"
    umask 022
}

# The PKCS#12 file is one file replaced atomically, so a request never sees half a renewal.
https_once() {
    local out
    out=$(curl -sS --max-time 5 -K "$D/curl.conf" --cacert "$PEBBLE_ROOT" \
        --resolve "$WEB_NAME:$NGINX_PORT:127.0.0.1" "https://$WEB_NAME:$NGINX_PORT/mtls" 2>&1)
    case "$out" in
    "mtls ok"*) [ $((n % 30)) = 1 ] && log "https ok: $out"; return 0 ;;
    esac
    log "https FAIL: $out"
    return 1
}

# Key and certificate are two files renamed one after the other (key first): copy both and
# use them only once they match, so a renewal in progress is never mistaken for a failure.
snapshot_pem() {
    local i
    for i in $(seq 20); do
        cp "$CLIENT_KEY" "$D/snap.key" 2>/dev/null && cp "$CLIENT_CERT" "$D/snap.pem" 2>/dev/null &&
            [ "$(openssl x509 -in "$D/snap.pem" -noout -pubkey 2>/dev/null)" = \
                "$(openssl pkey -in "$D/snap.key" -pubout 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    log "mqtt: key and certificate do not match for 2 s"
    return 1
}

# Publish a retained message, then subscribe and expect exactly it back.
mqtt_once() {
    local msg="demo-$$-$n" got tls
    snapshot_pem || return 1
    tls=(-h localhost -p "$MQTT_PORT" --cafile "$PEBBLE_ROOT" --cert "$D/snap.pem" --key "$D/snap.key")
    if ! got=$(timeout 10 mosquitto_pub "${tls[@]}" -t eca/demo -r -q 1 -m "$msg" 2>&1); then
        log "mqtt FAIL: publish: $got"
        return 1
    fi
    got=$(timeout 10 mosquitto_sub "${tls[@]}" -t eca/demo -C 1 -W 5 2>&1)
    if [ "$got" != "$msg" ]; then
        log "mqtt FAIL: subscribe got '$got', want '$msg'"
        return 1
    fi
    [ $((n % 30)) = 1 ] && log "mqtt ok: $msg ($(openssl x509 -in "$D/snap.pem" -noout -serial))"
    return 0
}

curl_conf
log "demo client: https://$WEB_NAME:$NGINX_PORT/mtls (pfx identity) and mqtts://localhost:$MQTT_PORT (pem identity)"
while :; do
    n=$((n + 1))
    if https_once; then https_ok=$((https_ok + 1)); else https_fail=$((https_fail + 1)); fi
    if mqtt_once; then mqtt_ok=$((mqtt_ok + 1)); else mqtt_fail=$((mqtt_fail + 1)); fi
    write_counts
    sleep "$CLIENT_INTERVAL" &
    child=$!
    wait "$child"
    child=
done
