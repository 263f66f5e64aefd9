#!/bin/bash
# SPDX-License-Identifier: MIT
# The compose stack (compose/) on a real Docker engine: a private dockerd (lib_docker.sh), the
# base image built locally, every service on the host network bound to 127.0.0.1 with ports
# picked at run time (docker-compose.loopback.yml), the agents under a non-default uid. Asserts
# that nginx serves eca-acme's certificate and a renewal of it, that eca-est enrolled and
# Mosquitto accepts that client certificate, that both agents are healthy, their keys 0600 and
# theirs, the secrets nowhere but /run/secrets, the logs live in `docker logs`; then `down -v`
# leaves no container and no volume.
# eca-timeout: 1500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_docker.sh"

COMPOSE_DIR=$ECA_ROOT/compose
# The agents' uid: not the images' 10001, as with the documented ECA_UID=$(id -u).
AGENT_UID=${IT_AGENT_UID:-24001}
# pebble's certificate lifetime: the agent renews with a third of it left.
ACME_VALIDITY=${IT_ACME_VALIDITY:-90}
T0=$(date +%s)
UP=0

since() { echo $(($(date +%s) - $1)); }

compose() {
    timeout --foreground "${COMPOSE_TIMEOUT:-120}" docker-compose -f "$COMPOSE_DIR/docker-compose.yml" \
        -f "$COMPOSE_DIR/docker-compose.loopback.yml" -f "$IT_TMP/test.yml" "$@" </dev/null
}

# cid SERVICE: the container of a service of this project.
cid() { docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
    --filter "label=com.docker.compose.service=$1" | head -n 1; }

# cexec SERVICE CMD...: run CMD in the service's container (as its user).
cexec() {
    local c
    c=$(cid "$1")
    shift
    [ -n "$c" ] || return 1
    timeout 30 docker exec "$c" "$@" </dev/null
}

# logs_have SERVICE FIXED-STRING: the service's `docker logs` (stdout and stderr) contain it.
logs_have() { docker logs "$(cid "$1")" 2>&1 | grep -qF -- "$2"; }

# health SERVICE: the container's health status per docker inspect.
health() { docker inspect -f '{{.State.Health.Status}}' "$(cid "$1")"; }
is_healthy() { [ "$(health "$1")" = healthy ]; }
is_unhealthy() { [ "$(health "$1")" = unhealthy ]; }

dump_logs() {
    local s
    for s in pki-init challtestsrv pebble nginx eca-acme est-ca mosquitto client eca-est prometheus; do
        [ -n "$(cid "$s")" ] || continue
        docker logs "$(cid "$s")" >"$IT_TMP/$s.log" 2>&1 || true
    done
}

cleanup() {
    local rc=$?
    set +e
    if [ "$UP" = 1 ]; then
        [ "$rc" != 0 ] && dump_logs
        compose down -v --remove-orphans >"$IT_TMP/down.out" 2>&1
    fi
    [ -n "$DOCKERD_PID" ] && docker_prune
    docker_stop
    it_cleanup "$rc"
}

# ---- engine, base image, ports, secrets ----------------------------------------------------
it_init
trap cleanup EXIT
docker_start
docker_base_image

export COMPOSE_PROJECT_NAME=eca-it-$$
# compose builds through the CLI with BuildKit (the Dockerfile-specific .dockerignore needs it);
# Debian's CLI has it, a newer one earlier on PATH may lack the buildx plugin.
mkdir -p "$IT_TMP/bin"
ln -s "$DOCKER_CLI" "$IT_TMP/bin/docker"
export PATH="$IT_TMP/bin:$PATH" COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1

for v in PEBBLE_PORT PEBBLE_MGMT_PORT HTTP01_PORT TLSALPN01_PORT HTTPS_PORT DNS_PORT \
    CHALLTESTSRV_MGMT_PORT MQTT_PORT EST_PORT CRL_PORT EST_RELAY_PORT CRL_RELAY_PORT \
    CLIENT_EST_PORT CLIENT_CRL_PORT ACME_METRICS_PORT EST_METRICS_PORT PROMETHEUS_PORT; do
    export "ECA_$v=$(free_port)"
done
export ECA_UID=$AGENT_UID ECA_GID=$AGENT_UID ECA_ACME_VALIDITY_SECONDS=$ACME_VALIDITY
export ECA_CHECK_INTERVAL_SECONDS=10 ECA_NGINX_WATCH_SECONDS=2 ECA_PUBLISH_SECONDS=5
export ECA_SECRETS_DIR=$IT_TMP/secrets
sh "$COMPOSE_DIR/make-secrets.sh" "$ECA_SECRETS_DIR" >/dev/null
# The health check of the images, probed every 5 s instead of every minute.
cat >"$IT_TMP/test.yml" <<'EOF'
version: "3.9"
services:
  eca-acme:
    healthcheck: { interval: 5s, start_period: 20s }
  eca-est:
    healthcheck: { interval: 5s, start_period: 20s }
EOF

# No bridge network, no container address: everything is on the host's 127.0.0.1.
compose config >"$IT_TMP/resolved.yml" || die "docker-compose config failed"
if grep -nE '172\.(1[6-9]|2[0-9]|3[01])\.|10\.[0-9]+\.[0-9]+\.|192\.168\.|driver: bridge|ipv4_address' \
    "$IT_TMP/resolved.yml"; then
    die "the loopback stack names a bridge network or a private-range address"
fi
[ "$(grep -c 'network_mode: host' "$IT_TMP/resolved.yml")" = \
    "$(python3 -c 'import sys,yaml; print(len(yaml.safe_load(open(sys.argv[1]))["services"]))' "$IT_TMP/resolved.yml")" ] ||
    die "not every service is on the host network"

# ---- up ------------------------------------------------------------------------------------
t=$(date +%s)
log "building the images (docker-compose build, --network host)"
COMPOSE_TIMEOUT=900 compose build >"$IT_TMP/build.out" 2>&1 ||
    { tail -n 40 "$IT_TMP/build.out" >&2; die "docker-compose build failed"; }
BUILD_SECS=$(since "$t")
log "images built in ${BUILD_SECS}s"
T_UP=$(date +%s)
UP=1
COMPOSE_TIMEOUT=300 compose up -d >"$IT_TMP/up.out" 2>&1 ||
    { tail -n 40 "$IT_TMP/up.out" >&2; die "docker-compose up -d failed"; }
log "stack up in $(since "$T_UP")s: $(docker ps --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" --format '{{.Names}}' | wc -l) containers"
[ -n "$(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")" ] &&
    die "compose created a network: $(docker network ls --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")"

# ---- eca-acme: first certificate, served by nginx ------------------------------------------
wait_until 180 cexec eca-acme test -s /certs/fullchain.pem ||
    die "eca-acme installed no certificate in 180 s"
log "eca-acme installed its first certificate $(since "$T_UP")s after up"
cexec eca-acme cat /pki/ca.pem >"$IT_TMP/pki-ca.pem"
curl -sSf --max-time 10 --cacert "$IT_TMP/pki-ca.pem" \
    "https://127.0.0.1:$ECA_PEBBLE_MGMT_PORT/roots/0" -o "$IT_TMP/pebble-root.pem" ||
    die "cannot fetch pebble's root from its management port"

# served_serial: the serial of the certificate nginx serves for web.eca.test, verified
# against pebble's root for that name (empty when it does not verify).
served_serial() {
    timeout 10 openssl s_client -connect "127.0.0.1:$ECA_HTTPS_PORT" -servername web.eca.test \
        -CAfile "$IT_TMP/pebble-root.pem" -verify_hostname web.eca.test -verify_return_error \
        </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}
installed_serial() { cexec eca-acme cat /certs/fullchain.pem | openssl x509 -noout -serial | sed 's/^serial=//'; }
serves_installed() { local s; s=$(served_serial) && [ -n "$s" ] && [ "$s" = "$(installed_serial)" ]; }

wait_until 60 serves_installed ||
    die "nginx does not serve the installed certificate (served '$(served_serial)', installed '$(installed_serial)')"
FIRST=$(installed_serial)
curl -sS --max-time 10 --cacert "$IT_TMP/pebble-root.pem" \
    --resolve "web.eca.test:$ECA_HTTPS_PORT:127.0.0.1" "https://web.eca.test:$ECA_HTTPS_PORT/" |
    grep -q 'hello from nginx' || die "curl https://web.eca.test:$ECA_HTTPS_PORT/ failed"
log "nginx serves eca-acme's certificate $FIRST (verified against pebble's root)"
# nginx's access log reaches `docker logs` (not a file inside the container).
wait_until 10 logs_have nginx '"GET / HTTP' ||
    die "nginx's access log is not in docker logs"

# ---- eca-est: enrolled, Mosquitto accepts the client ---------------------------------------
wait_until 120 cexec eca-est test -s /certs/client.pem || die "eca-est enrolled nothing in 120 s"
log "eca-est enrolled $(since "$T_UP")s after up"
cexec eca-est cat /certs/client.pem >"$IT_TMP/client.pem"
cexec eca-est cat /certs/client.key >"$IT_TMP/client.key"
chmod 0600 "$IT_TMP/client.key"
cexec eca-est cat /est-trust/ca-chain.pem >"$IT_TMP/est-chain.pem"
openssl verify -CAfile "$IT_TMP/est-chain.pem" "$IT_TMP/client.pem" >/dev/null ||
    die "the enrolled certificate does not chain to the EST CA"
mq=(-h 127.0.0.1 -p "$ECA_MQTT_PORT" --cafile "$IT_TMP/pki-ca.pem" -t eca/it)
timeout 20 mosquitto_pub "${mq[@]}" --cert "$IT_TMP/client.pem" --key "$IT_TMP/client.key" \
    -m "from the test" || die "Mosquitto refused the client certificate eca-est enrolled"
if timeout 20 mosquitto_pub "${mq[@]}" -m "no certificate" 2>/dev/null; then
    die "Mosquitto accepted a client without a certificate"
fi
wait_until 30 logs_have client 'client: published' ||
    die "the compose client never published with the sidecar's certificate"
# Mosquitto's log reaches `docker logs` at once (it was buffered for minutes on stdout).
wait_until 10 logs_have mosquitto "u'edge-client'" ||
    die "Mosquitto's log of the client connection is not in docker logs"
log "eca-est enrolled; Mosquitto accepts its certificate and refuses a client without one"

# ---- both agents healthy, keys theirs and 0600, secrets only under /run/secrets ------------
wait_until 60 is_healthy eca-acme || die "eca-acme is $(health eca-acme) per docker inspect"
wait_until 60 is_healthy eca-est || die "eca-est is $(health eca-est) per docker inspect"
log "docker inspect: eca-acme $(health eca-acme), eca-est $(health eca-est)"

for pair in eca-acme:/certs/privkey.pem eca-est:/certs/client.key; do
    svc=${pair%%:*} key=${pair#*:}
    got=$(cexec "$svc" stat -c '%a %u %g' "$key") || die "$svc: no $key"
    [ "$got" = "600 $AGENT_UID $AGENT_UID" ] || die "$svc: $key is '$got', want '600 $AGENT_UID $AGENT_UID'"
    [ "$(cexec "$svc" id -u)" = "$AGENT_UID" ] || die "$svc does not run as uid $AGENT_UID"
done
log "keys 0600, owned by the agents' uid $AGENT_UID (not root, not the image's 10001)"

for f in "$ECA_SECRETS_DIR"/*; do
    name=$(basename "$f")
    value=$(cat "$f")
    for svc in pki-init challtestsrv pebble nginx eca-acme est-ca mosquitto client eca-est prometheus; do
        c=$(cid "$svc")
        [ -n "$c" ] || die "no container for $svc"
        docker inspect "$c" | grep -qF -e "$value" && die "$svc: the $name secret is in docker inspect"
        docker logs "$c" 2>&1 | grep -qF -e "$value" && die "$svc: the $name secret is in its log"
        # Bind mounts of the secret file land under /run/secrets only.
        docker inspect -f '{{range .Mounts}}{{.Source}} {{.Destination}}{{"\n"}}{{end}}' "$c" |
            awk -v s="$f" '$1 == s && $2 !~ "^/run/secrets/" { bad = 1 } END { exit !bad }' &&
            die "$svc: $name mounted outside /run/secrets"
    done
    for svc in eca-acme eca-est; do
        # Everywhere the agent could write (the image itself is built without secrets).
        hits=$(cexec "$svc" sh -c 'grep -rlF -D skip -- "$1" /certs /var/lib/eca /var/www /tmp /etc /home /root 2>/dev/null' \
            sh "$value" || true)
        [ -z "$hits" ] || die "$svc: the $name secret is also in $hits"
    done
done
cexec eca-acme test -r /run/secrets/eab_hmac_key || die "eca-acme cannot read its secret"
cexec eca-est test -r /run/secrets/bootstrap_token || die "eca-est cannot read its secret"
log "secrets only under /run/secrets (not in env, logs, volumes or other files)"

# ---- Prometheus scrapes both agents --------------------------------------------------------
prom_up() {
    curl -sSf --max-time 5 "http://127.0.0.1:$ECA_PROMETHEUS_PORT/api/v1/query?query=up" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if sorted(x["metric"]["job"] for x in r if x["value"][1]=="1")==["eca-acme","eca-est"] else 1)'
}
wait_until 60 prom_up || die "Prometheus does not scrape both agents (up == 1)"
log "Prometheus scrapes eca-acme and eca-est"

# ---- every socket of the stack listens on 127.0.0.1 only ----------------------------------
pids=$(for svc in challtestsrv pebble nginx eca-acme est-ca mosquitto client eca-est prometheus; do
    docker top "$(cid "$svc")" -eo pid | tail -n +2
done | tr -d ' ' | paste -sd '|')
ss -Hltunp | grep -E "pid=($pids)," >"$IT_TMP/listeners.txt" || true
awk '$5 !~ /^127\.0\.0\.1:/' "$IT_TMP/listeners.txt" | grep . &&
    die "the stack listens beyond 127.0.0.1 (above)"
n=$(wc -l <"$IT_TMP/listeners.txt")
[ "$n" -ge 15 ] || die "found only $n listening sockets of the stack: $(cat "$IT_TMP/listeners.txt")"
log "all $n listening sockets of the stack are on 127.0.0.1"

# ---- renewal picked up by nginx ------------------------------------------------------------
renewed() { local s; s=$(served_serial) && [ -n "$s" ] && [ "$s" != "$FIRST" ] && [ "$s" = "$(installed_serial)" ]; }
wait_until $((ACME_VALIDITY + 60)) renewed ||
    die "no renewal served by nginx within $((ACME_VALIDITY + 60)) s (served '$(served_serial)', installed '$(installed_serial)', first $FIRST)"
# The watcher reloads nginx, then says so: the line may trail the new serial by a moment.
nginx_logged_reload() { docker logs "$(cid nginx)" 2>&1 | grep -q 'certificate changed, reloaded'; }
wait_until 15 nginx_logged_reload || die "nginx did not log its reload"
log "renewal served by nginx $(since "$T_UP")s after up: $FIRST -> $(served_serial)"
is_healthy eca-acme || die "eca-acme is $(health eca-acme) after the renewal"

# The alert rules are loaded, and the healthy short-lived certificates raise no expiry alert
# (the old rule, less than an hour left, was pending from the first evaluation).
prom() { curl -sSf --max-time 5 "http://127.0.0.1:$ECA_PROMETHEUS_PORT/api/v1/$1"; }
prom rules | grep -q '"name":"EcaCertificateExpiringSoon"' || die "Prometheus has not loaded the ECA rules"
alerts=$(prom 'query?query=ALERTS%7Balertname%3D%22EcaCertificateExpiringSoon%22%7D') ||
    die "Prometheus query failed"
echo "$alerts" | grep -q '"result":\[\]' || die "EcaCertificateExpiringSoon raised on healthy certificates: $alerts"
log "Prometheus: rules loaded, no EcaCertificateExpiringSoon on the healthy certificates"

# The health check follows `status`: with its certificate and its state unreadable, status
# fails, so the container turns unhealthy after three probes; readable again, the agent
# renews and the container is healthy again.
cexec eca-acme ls /var/lib/eca/eca-acme /certs/fullchain.pem >/dev/null || die "eca-acme cannot read its files"
docker exec -u 0 "$(cid eca-acme)" chmod 000 /var/lib/eca/eca-acme /certs/fullchain.pem
wait_until 45 is_unhealthy eca-acme || die "eca-acme is $(health eca-acme) while its status fails"
docker exec -u 0 "$(cid eca-acme)" chmod 0700 /var/lib/eca/eca-acme
docker exec -u 0 "$(cid eca-acme)" chmod 0644 /certs/fullchain.pem
wait_until 60 is_healthy eca-acme || die "eca-acme is $(health eca-acme) after its files are readable again"
log "eca-acme turned unhealthy while status failed, healthy again after"

# ---- down ----------------------------------------------------------------------------------
dump_logs
t=$(date +%s)
compose down -v --remove-orphans >"$IT_TMP/down.out" 2>&1 || die "docker-compose down -v failed"
UP=0
left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] || die "containers left after down -v: $left"
left=$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] || die "volumes left after down -v: $left"
[ -z "$(docker ps -aq)" ] || die "containers left on the engine: $(docker ps -a)"
log "down -v in $(since "$t")s: no container, no volume left"
log "PASS in $(since "$T0")s (images built in ${BUILD_SECS}s)"
