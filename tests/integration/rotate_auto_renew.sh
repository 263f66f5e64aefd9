#!/bin/bash
# SPDX-License-Identifier: MIT
# Unattended renewal: pebble and the demo EST CA issue LIFETIME-second certificates (default
# 60); eca-acme and eca-est run as daemons with default scheduling (no forcing, no signals,
# no check interval set) and must renew on their own RENEWALS times in a row (>= 3), every
# time before the installed certificate expires, and not hammer the CA (consecutive installs
# at least 30% of a lifetime apart). Watches the installed files, not the agents' logs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_rotate.sh"
it_init
snapshot_bins
LIFETIME=${LIFETIME:-60}
RENEWALS=${RENEWALS:-3}
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
clean_agent_env
start_pebble --validity "$LIFETIME"
EST_VALIDITY=$LIFETIME start_est_ca

A=$IT_TMP/acme E=$IT_TMP/est
mkdir -p "$A/out" "$E/out"
cat >"$A/agent.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$A/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
log_level = "debug";
certificates = ( {
    name = "auto";
    domains = [ "auto.renew.test" ];
    cert_path = "$A/out/cert.pem";
    key_path = "$A/out/key.pem";
} );
CONF
cat >"$E/agent.conf" <<CONF
ca_url = "$EST_BASE";
ca_bundle = "$EST_ROOT";
state_dir = "$E/state";
est_username = "$EST_USER";
bootstrap_token_file = "$EST_TOKEN_FILE";
crl_enabled = false;
log_level = "debug";
certificates = ( {
    name = "auto";
    subject_dn = "CN=auto-client,O=Example";
    cert_path = "$E/out/cert.pem";
    key_path = "$E/out/key.pem";
    ca_certs_path = "$E/out/ca.pem";
} );
CONF

# Both daemons start with nothing installed: the first certificate comes from the daemon too.
bg_start acme-daemon "$ECA_ACME" --config "$A/agent.conf"
ACME_PID=$BG_PID
bg_start est-daemon "$ECA_EST" --config "$E/agent.conf"
EST_PID=$BG_PID

# Watch both certificate files; one line per install: "ms serial not_before not_after".
want=$((RENEWALS + 1))
deadline=$(($(date +%s) + LIFETIME * RENEWALS * 85 / 100 + LIFETIME + 30))
last_a="" last_e=""
while [ "$(date +%s)" -lt "$deadline" ]; do
    alive "$ACME_PID" || die "eca-acme exited"
    alive "$EST_PID" || die "eca-est exited"
    for x in a e; do
        if [ $x = a ]; then dir=$A last=$last_a; else dir=$E last=$last_e; fi
        s=$(leaf_serial "$dir/out/cert.pem")
        if [ -n "$s" ] && [ "$s" != "$last" ]; then
            t=$(now_ms)
            pair_matches "$dir/out/cert.pem" "$dir/out/key.pem" || sleep 0.2
            pair_matches "$dir/out/cert.pem" "$dir/out/key.pem" ||
                die "$dir: installed certificate $s does not match the key"
            echo "$t $s $(leaf_not_before "$dir/out/cert.pem") $(leaf_not_after "$dir/out/cert.pem")" \
                >>"$dir/installs"
            log "$(basename "$dir"): installed serial $s (install $(wc -l <"$dir/installs"))"
            if [ $x = a ]; then last_a=$s; else last_e=$s; fi
        fi
    done
    na=$(wc -l <"$A/installs" 2>/dev/null || echo 0)
    ne=$(wc -l <"$E/installs" 2>/dev/null || echo 0)
    [ "$na" -ge "$want" ] && [ "$ne" -ge "$want" ] && break
    sleep 0.5
done

# check_installs DIR LABEL: enough installs; each one before the previous certificate expired,
# at least 30% of a lifetime after it; no forced renewal, no failure logged.
check_installs() {
    local dir=$1 label=$2 n prev_t="" prev_na="" prev_nb="" t s nb na gap lt
    n=$(wc -l <"$dir/installs" 2>/dev/null || echo 0)
    [ "$n" -ge "$want" ] || die "$label: $n installs within the time limit, want $want (1 + $RENEWALS renewals)"
    while read -r t s nb na; do
        lt=$((na - nb))
        [ "$lt" -le $((LIFETIME + 5)) ] || die "$label: serial $s lives ${lt}s, want ~$LIFETIME"
        if [ -n "$prev_t" ]; then
            [ "$t" -lt $((prev_na * 1000)) ] ||
                die "$label: serial $s installed at $t ms, after the previous expired ($prev_na)"
            gap=$((t - prev_t))
            [ "$gap" -ge $(((prev_na - prev_nb) * 300)) ] ||
                die "$label: serial $s installed only $gap ms after the previous one (hammering)"
            log "$label: $s installed $(((prev_na * 1000 - t) / 1000))s before the previous expiry, ${gap} ms after it"
        fi
        prev_t=$t prev_na=$na prev_nb=$nb
    done <"$dir/installs"
}
check_installs "$A" eca-acme
check_installs "$E" eca-est
for lg in acme-daemon est-daemon; do
    grep -q '"event":"renew_forced"' "$IT_TMP/$lg.log" && die "$lg: a renewal was forced"
    grep -q '"event":"renew_failed"' "$IT_TMP/$lg.log" && die "$lg: a renewal failed"
done
# The status file is rewritten after every pass: it names the certificate installed last.
for dir in "$A" "$E"; do
    [ -s "$dir/state/status.json" ] || die "no status file $dir/state/status.json"
    js=$(python3 -c 'import json,sys
print([c for c in json.load(open(sys.argv[1]))["certificates"] if c["name"] == "auto"][0]["serial"].replace(":", "").lower())' \
        "$dir/state/status.json") || die "$dir/state/status.json: not the status document"
    [ "$js" = "$(leaf_serial "$dir/out/cert.pem")" ] ||
        die "$dir/state/status.json names serial $js, not the installed one"
done
stop_pid "$ACME_PID" 10 || die "eca-acme did not stop on TERM"
stop_pid "$EST_PID" 10 || die "eca-est did not stop on TERM"
log "PASS"
