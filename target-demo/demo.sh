#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: the whole local stack on 127.0.0.1 (ports in DESIGN.md), short-lived
# certificates renewed on their own by eca-acme and eca-est, a client that keeps using them,
# and a live view. Ctrl-C stops every process it started (by PID).
# DEMO_SECONDS=N: run unattended for N seconds, print a summary, exit non-zero if a renewal
# or a client request failed, or if fewer renewals happened than the lifetimes promise.
#
# Knobs: DEMO_SECONDS (0: until Ctrl-C), DEMO_ACME_VALIDITY (300 s), DEMO_EST_VALIDITY (120 s),
# DEMO_DIR (build/demo: state and logs, wiped at the next start), DEMO_REFRESH (3 s),
# DEMO_PROMETHEUS=1 (also a real Prometheus on 127.0.0.1:4290 scraping both agents, with the
# alert rules of target-demo/prometheus/).
. "$(dirname "$0")/stack.sh"

DEMO_SECONDS=${DEMO_SECONDS:-0}
ACME_VALIDITY=${DEMO_ACME_VALIDITY:-300}
EST_VALIDITY=${DEMO_EST_VALIDITY:-120}
REFRESH=${DEMO_REFRESH:-3}
THRESHOLD=33 # the agents' default RENEWAL_THRESHOLD_PERCENT
DEMO_DIR=${DEMO_DIR:-$BUILD/demo}
case "$DEMO_SECONDS" in '' | *[!0-9]*) die "DEMO_SECONDS must be a number of seconds" ;; esac

stack_prereqs
stack_ports_fixed
stack_ports_check
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
IT_TMP=$(cd "$DEMO_DIR" && pwd)
IT_KEEP=1 # logs stay in $DEMO_DIR for a look afterwards
STOP=0
trap it_cleanup EXIT
trap 'STOP=1' INT TERM

# A renewal is due when less than THRESHOLD% of the lifetime is left (minus up to 10% of that
# window as jitter): for 300 s ACME certificates after ~190-201 s, for 120 s EST ones ~76-80 s.
ACME_RENEW_AFTER=$((ACME_VALIDITY * (100 - THRESHOLD) / 100))
EST_RENEW_AFTER=$((EST_VALIDITY * (100 - THRESHOLD) / 100))
MIN_ACME=0 MIN_EST=0
if [ "$DEMO_SECONDS" -gt 0 ]; then
    [ "$DEMO_SECONDS" -ge $((ACME_RENEW_AFTER + 20)) ] && MIN_ACME=1
    per_id=$((DEMO_SECONDS / EST_RENEW_AFTER - 1))
    [ "$per_id" -gt 0 ] && MIN_EST=$((2 * per_id))
fi

log "starting the ECA demo stack (state and logs in $IT_TMP)"
stack_up "$ACME_VALIDITY" "$EST_VALIDITY"
stack_start_client
PROM_PORT=4290
PROM_PID=
# start_prometheus: the demo's prometheus.yml and alert rules, pointed at this stack's ports.
start_prometheus() {
    local d=$IT_TMP/prometheus
    command -v prometheus >/dev/null || die "DEMO_PROMETHEUS=1 needs prometheus (scripts/deps.sh)"
    mkdir -p "$d/data"
    cp "$STACK_SH_DIR/prometheus/eca-alerts.yml" "$d/"
    sed -e "s/127.0.0.1:4231/127.0.0.1:$METRICS_ACME_PORT/" \
        -e "s/127.0.0.1:4232/127.0.0.1:$METRICS_EST_PORT/" \
        "$STACK_SH_DIR/prometheus/prometheus.yml" >"$d/prometheus.yml"
    bg_start prometheus prometheus --config.file="$d/prometheus.yml" \
        --storage.tsdb.path="$d/data" --web.listen-address="127.0.0.1:$PROM_PORT"
    PROM_PID=$BG_PID
    wait_for_port "$PROM_PORT" 30
}
[ "${DEMO_PROMETHEUS:-0}" = 1 ] && start_prometheus
set +e # from here on, a failed probe is reported, never fatal
T0=$(date +%s)

cat <<EOF

ECA demo: everything listens on 127.0.0.1 only; state and logs in $IT_TMP
  pebble (ACME CA)      $PEBBLE_DIR_URL  certificates valid $ACME_VALIDITY s
  EST CA (est_ca.py)    $EST_URL  client certificates valid $EST_VALIDITY s
  CRL                   $EST_CRL_URL
  nginx                 http-01 webroot on :$HTTP01_PORT; https://$WEB_NAME:$NGINX_PORT/ (/mtls needs an EST client certificate)
  Mosquitto             mqtts://localhost:$MQTT_PORT (client certificate from the EST CA required)
  eca-acme (pid $ECA_ACME_PID)  nginx, mosquitto (reload: SIGHUP), minio layout in $MINIO_DIR
  eca-est  (pid $ECA_EST_PID)  client-pem (PEM, used for MQTT), client-pfx (.pfx, used for /mtls)
  demo client (pid $CLIENT_PID)  one /mtls request and one MQTT publish+subscribe per second
  metrics               127.0.0.1:$METRICS_ACME_PORT, 127.0.0.1:$METRICS_EST_PORT (if the agents serve them)
  prometheus            ${PROM_PID:+http://127.0.0.1:$PROM_PORT/alerts (pid $PROM_PID)}${PROM_PID:-not started (DEMO_PROMETHEUS=1 starts it)}
Renewals: ACME after ~$ACME_RENEW_AFTER s, EST after ~$EST_RENEW_AFTER s (less than $THRESHOLD% of the lifetime left).
Try:  curl --cacert $PEBBLE_ROOT --resolve $WEB_NAME:$NGINX_PORT:127.0.0.1 https://$WEB_NAME:$NGINX_PORT/
      $ECA_ACME --config $ACME_CONF status
EOF
if [ "$DEMO_SECONDS" -gt 0 ]; then
    echo "Running unattended for $DEMO_SECONDS s (need >= $MIN_ACME ACME and >= $MIN_EST EST renewals, no failures)."
else
    echo "Press Ctrl-C to stop."
fi
echo

# Per certificate: label, kind (file|pfx), path, served port and SNI (if a server presents it).
CERTS=(
    "acme nginx|file|$WEB_CERT|$NGINX_PORT|$WEB_NAME"
    "acme mosquitto|file|$MQTT_CERT|$MQTT_PORT|localhost"
    "acme minio|file|$MINIO_DIR/public.crt||"
    "est client-pem|file|$CLIENT_CERT||"
    "est client-pfx|pfx|$CLIENT_PFX||"
)
declare -A SERIAL RENEWALS MISMATCH_SINCE SERVED NEXT
RELOAD_FAILS=0

serial_of() {
    if [ "$1" = pfx ]; then pfx_serial "$2" "$CLIENT_PFX_PASS"; else cert_serial "$2" 2>/dev/null; fi
}

left_of() {
    local f=$2
    if [ "$1" = pfx ]; then
        openssl pkcs12 -in "$f" -passin "file:$CLIENT_PFX_PASS" -nokeys -clcerts 2>/dev/null \
            >"$IT_TMP/.pfx-leaf.pem"
        f=$IT_TMP/.pfx-leaf.pem
    fi
    echo "$(cert_left "$f")/$(cert_lifetime "$f")"
}

# Observe every certificate: count serial changes; check servers present the installed one.
observe() {
    local c label kind path port sni s served now
    now=$(date +%s)
    for c in "${CERTS[@]}"; do
        IFS='|' read -r label kind path port sni <<<"$c"
        s=$(serial_of "$kind" "$path")
        [ -n "$s" ] || continue
        if [ -z "${SERIAL[$label]:-}" ]; then
            RENEWALS[$label]=0
        elif [ "${SERIAL[$label]}" != "$s" ]; then
            RENEWALS[$label]=$((RENEWALS[$label] + 1))
            echo "$(date -u +%H:%M:%S) $label renewed: ${SERIAL[$label]} -> $s" >>"$IT_TMP/renewals.log"
        fi
        SERIAL[$label]=$s
        [ -n "$port" ] || continue
        served=$(served_serial "$port" "$sni")
        SERVED[$label]=$served
        if [ "$served" = "$s" ]; then
            MISMATCH_SINCE[$label]=
        elif [ -z "${MISMATCH_SINCE[$label]:-}" ]; then
            MISMATCH_SINCE[$label]=$now
        elif [ "${MISMATCH_SINCE[$label]}" != done ] && [ $((now - MISMATCH_SINCE[$label])) -gt 15 ]; then
            RELOAD_FAILS=$((RELOAD_FAILS + 1))
            MISMATCH_SINCE[$label]=done
            echo "$(date -u +%H:%M:%S) $label: server still presents $served, installed $s" >>"$IT_TMP/renewals.log"
        fi
    done
}

# The agents' own view (`status --json`): when each certificate's renewal window opens.
read_status() {
    local label at
    NEXT=()
    while read -r label at; do
        [ -n "$label" ] && NEXT[$label]=$at
    done < <({
        "$ECA_ACME" --config "$ACME_CONF" status --json 2>/dev/null
        echo
        "$ECA_EST" --config "$EST_CONF" status --json 2>/dev/null
    } | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        d = json.loads(line)
    except ValueError:
        continue
    kind = "acme" if d.get("agent") == "eca-acme" else "est"
    for c in d.get("certificates", []):
        at = (c.get("renew_at") or "")[11:19] or "-"
        print(kind + "_" + str(c.get("name")), at)
' 2>/dev/null)
}

# metrics_line AGENT PORT: whether the agent serves Prometheus metrics, and what they count.
metrics_line() {
    local t
    if t=$(curl -sf --max-time 2 "http://127.0.0.1:$2/metrics"); then
        printf '%s :%s up (renewals %s, failures %s)' "$1" "$2" \
            "$(awk '/^eca_renewals_total\{/ {n += $NF} END {print n + 0}' <<<"$t")" \
            "$(awk '/^eca_renewal_failures_total\{/ {n += $NF} END {print n + 0}' <<<"$t")"
    else
        printf '%s :%s not served' "$1" "$2"
    fi
}

count_events() { grep -c "\"event\":\"$2\"" "$IT_TMP/$1.log" 2>/dev/null || true; }
counts() { sed -n "s/^$1=//p" "$IT_TMP/client/counts" 2>/dev/null || echo 0; }
alive() { kill -0 "$1" 2>/dev/null && echo up || echo DOWN; }
fmt_left() {
    local l=${1%/*} t=${1#*/}
    [ -n "$l" ] && printf '%4ds of %ds' "$l" "$t" || printf 'unreadable'
}

view() {
    local c label kind path port sni served
    read_status
    printf '%-16s %-41s %-16s %-8s %-9s %s\n' certificate serial "lifetime left" renewals "renew UTC" served
    for c in "${CERTS[@]}"; do
        IFS='|' read -r label kind path port sni <<<"$c"
        served=-
        if [ -n "$port" ]; then
            served=${SERVED[$label]:-?}
            [ "$served" = "${SERIAL[$label]:-}" ] && served="yes (:$port)" || served="old ($served)"
        fi
        printf '%-16s %-41s %-16s %-8s %-9s %s\n' "$label" "${SERIAL[$label]:-?}" \
            "$(fmt_left "$(left_of "$kind" "$path")")" "${RENEWALS[$label]:-0}" \
            "${NEXT[${label/ /_}]:--}" "$served"
    done
    printf 'agents: eca-acme %s (renew_failed %s), eca-est %s (renew_failed %s); CA pebble %s, EST %s\n' \
        "$(alive "$ECA_ACME_PID")" "$(count_events eca-acme renew_failed)" "$(alive "$ECA_EST_PID")" \
        "$(count_events eca-est renew_failed)" "$(alive "$(cat "$IT_TMP/pebble.pid")")" \
        "$(alive "$EST_CA_PID")"
    printf 'metrics: %s; %s\n' "$(metrics_line eca-acme "$METRICS_ACME_PORT")" \
        "$(metrics_line eca-est "$METRICS_EST_PORT")"
    [ -n "$PROM_PID" ] && printf 'prometheus: %s, targets up: %s of 2\n' "$(alive "$PROM_PID")" \
        "$(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/targets" | grep -o '"health":"up"' | wc -l)"
    printf 'client: https /mtls %s ok, %s failed; mqtt %s ok, %s failed\n' \
        "$(counts https_ok)" "$(counts https_fail)" "$(counts mqtt_ok)" "$(counts mqtt_fail)"
}

sum_renewals() {
    local prefix=$1 k n=0
    for k in "${!RENEWALS[@]}"; do
        case "$k" in "$prefix "*) n=$((n + RENEWALS[$k])) ;; esac
    done
    echo "$n"
}

# The final verdict: print why and return non-zero on any shortfall.
summary() {
    local bad=0 acme est f
    observe
    acme=$(sum_renewals acme) est=$(sum_renewals est)
    echo
    echo "== ECA demo summary: $(($(date +%s) - T0)) s =="
    view
    [ -s "$IT_TMP/renewals.log" ] && { echo "renewals seen:"; sed 's/^/  /' "$IT_TMP/renewals.log"; }
    check() { if eval "$2"; then echo "  ok    $1"; else echo "  FAIL  $1"; bad=1; fi; }
    check "ACME renewals: $acme (need >= $MIN_ACME)" "[ $acme -ge $MIN_ACME ]"
    check "EST renewals: $est (need >= $MIN_EST)" "[ $est -ge $MIN_EST ]"
    for f in eca-acme eca-est; do
        check "$f: $(count_events $f renew_failed) failed renewals" "[ $(count_events $f renew_failed) = 0 ]"
    done
    check "agents running" "[ $(alive "$ECA_ACME_PID") = up ] && [ $(alive "$ECA_EST_PID") = up ]"
    check "nginx and Mosquitto present the installed certificates ($RELOAD_FAILS late reloads)" \
        "[ $RELOAD_FAILS = 0 ] && [ \"${SERVED[acme nginx]:-}\" = \"${SERIAL[acme nginx]:-}\" ] && [ \"${SERVED[acme mosquitto]:-}\" = \"${SERIAL[acme mosquitto]:-}\" ]"
    check "client requests failed: $(($(counts https_fail) + $(counts mqtt_fail)))" \
        "[ $(counts https_fail) = 0 ] && [ $(counts mqtt_fail) = 0 ]"
    check "client requests succeeded: $(($(counts https_ok) + $(counts mqtt_ok)))" \
        "[ $(counts https_ok) -gt 0 ] && [ $(counts mqtt_ok) -gt 0 ]"
    if [ "$bad" = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL (logs in $IT_TMP)"; fi
    return "$bad"
}

last_print=0
LAST_VIEW=
while [ "$STOP" = 0 ]; do
    observe
    now=$(date +%s)
    LAST_VIEW=$(view)
    if [ -t 1 ]; then
        printf '\033[H\033[J'
        echo "ECA demo, $((now - T0)) s ($( [ "$DEMO_SECONDS" -gt 0 ] && echo "of $DEMO_SECONDS s" || echo "Ctrl-C stops")); logs in $IT_TMP"
        echo "$LAST_VIEW"
    elif [ $((now - last_print)) -ge 30 ]; then
        echo "---- $((now - T0)) s ----"
        echo "$LAST_VIEW"
        last_print=$now
    fi
    [ "$DEMO_SECONDS" -gt 0 ] && [ $((now - T0)) -ge "$DEMO_SECONDS" ] && break
    sleep "$REFRESH" || true
done
if [ "$STOP" = 1 ]; then
    # Ctrl-C also reached the servers and agents in the terminal's process group, so the
    # state now says nothing: show the last view taken before it.
    echo
    echo "== ECA demo stopped after $(($(date +%s) - T0)) s; last view =="
    echo "$LAST_VIEW"
    [ -s "$IT_TMP/renewals.log" ] && { echo "renewals seen:"; sed 's/^/  /' "$IT_TMP/renewals.log"; }
    log "stopping every process the demo started"
    [ "$DEMO_SECONDS" -gt 0 ] && exit 130 # an unattended run cut short has no verdict
    exit 0
fi
rc=0
summary || rc=1
log "stopping every process the demo started"
exit "$rc"
