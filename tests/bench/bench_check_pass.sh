#!/bin/bash
# SPDX-License-Identifier: MIT
# A check pass over many installed certificates: BENCH_CERTS (default 10000) ten-year EC P-256
# certificates that need nothing, one resident agent (eca-acme, then eca-est) managing them all.
# Reports the process CPU time (/proc/PID/task/*/schedstat) of the start and first (cold)
# pass, of the second (warm) pass, which comes check_interval_seconds later (BENCH_INTERVAL,
# default 60; it must be longer than the cold pass), and the resident memory after each. Nothing
# is due, so nothing is ordered: eca-acme's CA is a static directory without renewalInfo on
# loopback (one request in all), eca-est's a port where nothing listens.
# BENCH_BEFORE_ACME / BENCH_BEFORE_EST: other builds of the daemons, run the same way first
# (before/after in one run). The certificates are generated once into BENCH_CERT_CACHE (default
# ${TMPDIR:-/tmp}/eca-bench-certs-N-PER_DIR) and reused by later runs, BENCH_PER_DIR (default
# 100) to a directory: the start sweeps each certificate's directory for temporary files left
# by a kill -9, one listing per certificate, so 10,000 in one directory would make the start
# quadratic (minutes of getdents64) and hide the pass (set BENCH_PER_DIR=10000 to see it).
. "$(dirname "$0")/../integration/lib.sh"
it_init
N=${BENCH_CERTS:-10000}
INTERVAL=${BENCH_INTERVAL:-60}
AGENTS=${BENCH_AGENTS:-"acme est"}
ECA_EST=${ECA_EST:-$BUILD/eca-est}
PER_DIR=${BENCH_PER_DIR:-100}
C=${BENCH_CERT_CACHE:-${TMPDIR:-/tmp}/eca-bench-certs-$N-$PER_DIR}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
unset CA_URL CA_BUNDLE STATE_DIR DOMAIN_NAME CERT_PATH KEY_PATH CHAIN_PATH RELOAD_COMMAND \
    FORCE_RENEWAL KEY_TYPE RENEWAL_THRESHOLD_PERCENT CHECK_INTERVAL_SECONDS HTTP01_LISTEN WEBROOT \
    SUBJECT_DN SANS EST_USERNAME BOOTSTRAP_TOKEN BOOTSTRAP_TOKEN_FILE CA_CERTS_PATH MAX_AGE_SECONDS

if [ ! -e "$C/.complete" ]; then
    log "generating $N ten-year certificates (EC P-256, one throwaway CA) into $C"
    t0=$(date +%s)
    rm -rf "$C"
    python3 "$(dirname "$0")/gen_certs.py" "$N" "$C" "$PER_DIR"
    touch "$C/.complete"
    log "generated in $(($(date +%s) - t0)) s"
fi
(umask 077 && echo "not-a-real-token" >"$IT_TMP/token")
DEAD_PORT=$(free_port)
DIR_PORT=$(free_port)
# A directory without renewalInfo: eca-acme asks it once and then leaves ARI alone.
mkdir -p "$IT_TMP/www"
cat >"$IT_TMP/www/dir" <<JSON
{"newNonce": "http://127.0.0.1:$DEAD_PORT/nonce", "newAccount": "http://127.0.0.1:$DEAD_PORT/acct",
 "newOrder": "http://127.0.0.1:$DEAD_PORT/order", "revokeCert": "http://127.0.0.1:$DEAD_PORT/revoke",
 "keyChange": "http://127.0.0.1:$DEAD_PORT/kc"}
JSON
bg_start dirsrv python3 -c '
import http.server, sys
body = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        sys.stderr.write("GET %s\n" % self.path)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$DIR_PORT" "$IT_TMP/www/dir"

# conf AGENT DIR: the configuration of all N certificates for that agent.
conf() {
    local agent=$1 d=$2
    mkdir -p "$d/state" "$d/webroot"
    python3 - "$agent" "$d" "$N" "$C" "$DIR_PORT" "$DEAD_PORT" "$INTERVAL" "$IT_TMP/token" \
        "$PER_DIR" <<'PY'
import sys
agent, d, n, c, dirport, dead, interval, token, per_dir = sys.argv[1:]
out = []
if agent == "acme":
    out += ['ca_url = "http://127.0.0.1:%s/dir";' % dirport, "insecure = true;",
            'webroot = "%s/webroot";' % d]
else:
    out += ['ca_url = "https://127.0.0.1:%s";' % dead, 'est_username = "bench";',
            'bootstrap_token_file = "%s";' % token, "crl_enabled = false;"]
out += ['ca_bundle = "%s/ca.pem";' % c, 'state_dir = "%s/state";' % d, 'log_level = "info";',
        "check_interval_seconds = %s;" % interval, "certificates = ("]
certs = []
for i in range(1, int(n) + 1):
    if agent == "acme":
        s = '{ name = "c%d"; domains = [ "c%d.bench.test" ];' % (i, i)
    else:
        s = '{ name = "c%d"; subject_dn = "CN=c%d.bench.test"; sans = [ "c%d.bench.test" ];' % (i, i, i)
    sub = "%s/d%d" % (c, (i - 1) // int(per_dir))
    certs.append(s + ' cert_path = "%s/c%d.pem"; key_path = "%s/c%d.key"; }' % (sub, i, sub, i))
out.append(",\n".join(certs))
out.append(");")
open(d + "/agent.conf", "w").write("\n".join(out) + "\n")
PY
}

# cpu_ms PID: CPU time of PID so far (all threads), in ms: the scheduler's nanosecond count
# (/proc/PID/task/*/schedstat), finer than the 10 ms ticks of /proc/PID/stat.
cpu_ms() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s / 1e6}'; }
kib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
checked() { grep -c '"event":"cert_checked"' "$1" || true; }
# settle PID LOG COUNT: wait (bounded) until LOG has COUNT cert_checked lines and PID's CPU
# time stood still for a second: the pass is over and the agent sleeps.
settle() {
    local pid=$1 lg=$2 want=$3 last=-1 still=0 now
    for _ in $(seq 2400); do
        kill -0 "$pid" 2>/dev/null || die "agent exited (see $lg)"
        now=$(cpu_ms "$pid")
        if [ "$(checked "$lg")" -ge "$want" ] && [ "$now" = "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 4 ] && return 0
        else
            still=0
        fi
        last=$now
        sleep 0.25
    done
    die "no settled pass with $want checks in $lg after 600 s"
}

TABLE=$IT_TMP/table.md
echo "| agent | build | certificates | start + cold pass CPU | warm pass CPU | per certificate (warm) | RssAnon after warm | VmHWM | renewals attempted | status.json |" >"$TABLE"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|" >>"$TABLE"
# run AGENT LABEL BIN
run() {
    local agent=$1 label=$2 bin=$3 d=$IT_TMP/$1-$2 pid cold warm start
    conf "$agent" "$d"
    log "$agent ($label): $N certificates, interval $INTERVAL s"
    start=$(date +%s%N)
    bg_start "$agent-$label" "$bin" --config "$d/agent.conf"
    pid=$BG_PID
    settle "$pid" "$IT_TMP/$agent-$label.log" "$N"
    cold=$(cpu_ms "$pid")
    log "  cold: ${cold} ms CPU, $(( ($(date +%s%N) - start) / 1000000 )) ms wall"
    [ "$(checked "$IT_TMP/$agent-$label.log")" -eq "$N" ] ||
        log "  WARNING: the second pass began before the first settled: raise BENCH_INTERVAL"
    settle "$pid" "$IT_TMP/$agent-$label.log" $((2 * N))
    warm=$(($(cpu_ms "$pid") - cold))
    log "  warm: ${warm} ms CPU"
    att=$(grep -cE '"event":"(renew_started|order_started|enroll_started)"' "$IT_TMP/$agent-$label.log" || true)
    sf=$(grep -c '"event":"status_write_failed"' "$IT_TMP/$agent-$label.log" || true)
    if [ "$sf" = 0 ]; then sf=written; else sf="FAILED x$sf"; fi
    echo "| $agent | $label | $N | $cold ms | $warm ms | $(awk -v w="$warm" -v n="$N" 'BEGIN {printf "%.0f us", w * 1000 / n}') | $(kib "$(proc_kb "$pid" RssAnon)") | $(kib "$(proc_kb "$pid" VmHWM)") | $att | $sf |" >>"$TABLE"
    bg_stop "$agent-$label"
}
for agent in $AGENTS; do
    before=
    [ "$agent" = acme ] && before=${BENCH_BEFORE_ACME:-} && bin=$ECA_ACME
    [ "$agent" = est ] && before=${BENCH_BEFORE_EST:-} && bin=$ECA_EST
    [ -n "$before" ] && run "$agent" before "$before"
    run "$agent" this "$bin"
done
echo
cat "$TABLE"
echo "machine: $(nproc) CPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
