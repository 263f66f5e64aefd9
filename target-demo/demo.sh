#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: the whole local stack on 127.0.0.1 (ports in target-demo/README.md),
# short-lived certificates renewed on their own by eca-acme and eca-est, a client that keeps
# using them, and a live view. Ctrl-C stops every process it started (by PID).
# DEMO_SECONDS=N: run unattended for N seconds, print a summary, exit non-zero if a renewal
# or a client request failed, or if fewer renewals happened than the lifetimes promise.
#
# Knobs: DEMO_SECONDS (0: until Ctrl-C; unset: 0 in a terminal, else 300), DEMO_ACME_VALIDITY
# (300 s), DEMO_EST_VALIDITY (120 s), DEMO_DIR (build/demo: state and logs, wiped at the next
# start), DEMO_REFRESH (3 s), DEMO_PROMETHEUS=1 (also a real Prometheus on 127.0.0.1:4290
# scraping both agents, with the alert rules of target-demo/prometheus/).
. "$(dirname "$0")/stack.sh"

# Without a terminal nobody can press Ctrl-C: a run that ends, with a verdict, is the default.
if [ -z "${DEMO_SECONDS:-}" ] && [ ! -t 1 ]; then DEMO_SECONDS=300; fi
DEMO_SECONDS=${DEMO_SECONDS:-0}
ACME_VALIDITY=${DEMO_ACME_VALIDITY:-300}
EST_VALIDITY=${DEMO_EST_VALIDITY:-120}
REFRESH=${DEMO_REFRESH:-3}
THRESHOLD=33 # the agents' default RENEWAL_THRESHOLD_PERCENT
DEMO_DIR=${DEMO_DIR:-$BUILD/demo}
PROM_PORT=4290
PROM_PID=
case "$DEMO_SECONDS" in '' | *[!0-9]*) die "DEMO_SECONDS must be a number of seconds" ;; esac

stack_prereqs
stack_ports_fixed
EXTRA_PORTS=()
[ "${DEMO_PROMETHEUS:-0}" = 1 ] && EXTRA_PORTS=("$PROM_PORT")
stack_ports_check "${EXTRA_PORTS[@]}"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
IT_TMP=$(cd "$DEMO_DIR" && pwd)
IT_KEEP=1 # logs stay in $DEMO_DIR for a look afterwards

# demo_cleanup: stop every process the demo started (lib.sh's it_cleanup, by PID, without
# its dump of every log), then on a failure show the log that holds the cause.
demo_cleanup() {
    local rc=$?
    trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
    set +e
    log "stopping every process the demo started"
    (IT_TMP='' it_cleanup "$rc")
    if [ "$rc" != 0 ] && [ "$rc" != 130 ]; then
        stack_why
        echo "All logs: $IT_TMP" >&2
    fi
    exit "$rc"
}
trap demo_cleanup EXIT
trap 'exit 130' INT TERM # while starting; the live view below only stops its loop

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
stack_step "starting the demo client" demo-client.log
stack_start_client
# start_prometheus: the demo's prometheus.yml and alert rules, pointed at this stack's ports.
start_prometheus() {
    local d=$IT_TMP/prometheus
    command -v prometheus >/dev/null || die "DEMO_PROMETHEUS=1 needs prometheus (scripts/deps.sh)"
    stack_step "starting Prometheus" prometheus.log
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
stack_step "" # the stack is up: from here on the verdict names its own evidence
set +e # from here on, a failed probe is reported, never fatal
STOP=0
trap 'STOP=1' INT TERM
T0=$(date +%s)

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

# first_due AGENT CONF: the earliest renew_at (epoch seconds) in the agent's `status --json`.
first_due() {
    "$1" --config "$2" status --json 2>/dev/null | python3 -c '
import json, sys, datetime
d = json.load(sys.stdin)
t = [c["renew_at"] for c in d.get("certificates", []) if c.get("renew_at")]
if t:
    print(int(datetime.datetime.strptime(min(t), "%Y-%m-%dT%H:%M:%SZ")
              .replace(tzinfo=datetime.timezone.utc).timestamp()))
' 2>/dev/null
}

# due_line KIND EPOCH LIFETIME AFTER: when the first renewal of that kind will happen.
due_line() {
    local at=$2 when
    if [ -z "$at" ]; then
        when="the agent does not say (status --json)"
    else
        when="$(date -u -d "@$at" +%H:%M:%S) UTC, $((at - T0)) s into the run"
        if [ "$DEMO_SECONDS" -gt 0 ] && [ "$at" -gt $((T0 + DEMO_SECONDS)) ]; then
            when="$when: after this run ends (DEMO_SECONDS=$((at - T0 + 30)) would show it)"
        fi
    fi
    echo "  $1 certificates live $3 s and renew ~$4 s after issue; the first: $when"
}
ACME_DUE=$(first_due "$ECA_ACME" "$ACME_CONF")
EST_DUE=$(first_due "$ECA_EST" "$EST_CONF")
RENEWALS_TXT="Renewals (when less than $THRESHOLD% of the lifetime is left):
$(due_line ACME "$ACME_DUE" "$ACME_VALIDITY" "$ACME_RENEW_AFTER")
$(due_line EST "$EST_DUE" "$EST_VALIDITY" "$EST_RENEW_AFTER")"
TRY_TXT="Try:  curl --cacert $PEBBLE_ROOT --resolve $WEB_NAME:$NGINX_PORT:127.0.0.1 https://$WEB_NAME:$NGINX_PORT/
        (pebble-root.pem: the root pebble issues under, which nginx's certificate chains to)
      curl --cacert $PEBBLE_TLS_CA $PEBBLE_DIR_URL
        (pebble-tls/ca.pem: pebble's own HTTPS, the file an agent's ca_bundle names)
      $ECA_ACME --config $ACME_CONF status
      $ECA_EST --config $EST_CONF status"

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
  metrics               127.0.0.1:$METRICS_ACME_PORT, 127.0.0.1:$METRICS_EST_PORT
  prometheus            $([ -n "$PROM_PID" ] && echo "http://127.0.0.1:$PROM_PORT/alerts (pid $PROM_PID)" ||
    echo "not started (DEMO_PROMETHEUS=1 starts it)")
$RENEWALS_TXT
$TRY_TXT
EOF
if [ "$DEMO_SECONDS" -gt 0 ]; then
    echo "Running unattended for $DEMO_SECONDS s (need >= $MIN_ACME ACME and >= $MIN_EST EST renewals, no failures)."
else
    echo "Press Ctrl-C to stop."
fi
echo

# evidence LOG PATTERN [N]: the last N (5) lines of a log that match PATTERN, indented.
evidence() {
    local f=$IT_TMP/$1
    [ -s "$f" ] || { echo "        ($f is empty)"; return 0; }
    grep -E "$2" "$f" | tail -n "${3:-5}" | cut -c1-300 | sed "s|^|        $1: |"
}
# The log lines that explain each failed check below.
EV_ACME='evidence eca-acme.log "\"event\":\"(renew_[a-z]+|cert_checked|agent_[a-z]+)\""'
EV_EST='evidence eca-est.log "\"event\":\"(renew_[a-z]+|cert_checked|agent_[a-z]+)\""'
EV_SERVERS='evidence nginx.log "\[(warn|error|crit|alert|emerg)\]"; evidence mosquitto.log . 3'

# The final verdict: print why and return non-zero on any shortfall; under each failed
# check, the log lines that say why.
summary() {
    local bad=0 acme est f n
    observe
    acme=$(sum_renewals acme) est=$(sum_renewals est)
    echo
    echo "== ECA demo summary: $(($(date +%s) - T0)) s =="
    view
    [ -s "$IT_TMP/renewals.log" ] && { echo "renewals seen:"; sed 's/^/  /' "$IT_TMP/renewals.log"; }
    echo "$RENEWALS_TXT"
    # check WHAT CONDITION [EVIDENCE]: one line of the verdict.
    check() {
        if eval "$2"; then
            echo "  ok    $1"
        else
            echo "  FAIL  $1"
            bad=1
            [ -z "${3:-}" ] || eval "$3"
        fi
    }
    check "ACME renewals: $acme (need >= $MIN_ACME)" "[ $acme -ge $MIN_ACME ]" "$EV_ACME"
    check "EST renewals: $est (need >= $MIN_EST)" "[ $est -ge $MIN_EST ]" "$EV_EST"
    for f in eca-acme eca-est; do
        n=$(count_events $f renew_failed)
        check "$f: $n failed renewals" "[ $n = 0 ]" "evidence $f.log '\"event\":\"renew_failed\"'"
    done
    check "agents running" "[ $(alive "$ECA_ACME_PID") = up ] && [ $(alive "$ECA_EST_PID") = up ]" \
        "[ $(alive "$ECA_ACME_PID") = up ] || evidence eca-acme.log . 3; [ $(alive "$ECA_EST_PID") = up ] || evidence eca-est.log . 3"
    check "nginx and Mosquitto present the installed certificates ($RELOAD_FAILS late reloads)" \
        "[ $RELOAD_FAILS = 0 ] && [ \"${SERVED[acme nginx]:-}\" = \"${SERIAL[acme nginx]:-}\" ] && [ \"${SERVED[acme mosquitto]:-}\" = \"${SERIAL[acme mosquitto]:-}\" ]" \
        "evidence renewals.log presents; evidence eca-acme.log '\"event\":\"(reload|verify)[a-z_]*\"'; $EV_SERVERS"
    check "client requests failed: $(($(counts https_fail) + $(counts mqtt_fail)))" \
        "[ $(counts https_fail) = 0 ] && [ $(counts mqtt_fail) = 0 ]" \
        "evidence demo-client.log FAIL; $EV_SERVERS"
    check "client requests succeeded: $(($(counts https_ok) + $(counts mqtt_ok)))" \
        "[ $(counts https_ok) -gt 0 ] && [ $(counts mqtt_ok) -gt 0 ]" "evidence demo-client.log ."
    if [ "$bad" = 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL (logs in $IT_TMP)"; fi
    return "$bad"
}

last_print=0
LAST_VIEW=
while [ "$STOP" = 0 ]; do
    observe
    now=$(date +%s)
    view_now=$(view)
    [ "$STOP" = 0 ] || break # Ctrl-C during the view: it shows a stack going down
    LAST_VIEW=$view_now
    if [ -t 1 ]; then
        printf '\033[H\033[J'
        echo "ECA demo, $((now - T0)) s ($( [ "$DEMO_SECONDS" -gt 0 ] && echo "of $DEMO_SECONDS s" || echo "Ctrl-C stops")); logs in $IT_TMP"
        echo "$LAST_VIEW"
        echo "$RENEWALS_TXT"
        echo "$TRY_TXT"
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
    [ "$DEMO_SECONDS" -gt 0 ] && exit 130 # an unattended run cut short has no verdict
    exit 0
fi
rc=0
summary || rc=1
exit "$rc"
