#!/bin/bash
# SPDX-License-Identifier: MIT
# Both daemons' loops with two valid certificates (nothing due, so no CA is contacted): one
# event shape (RFC 3339 not_after/next_check in cert_checked), a HUP that drops a certificate
# drops its metric series too, a HUP with a broken file keeps the old configuration, and TERM
# ends the daemon with exit 0.
# eca-timeout: 120
. "$(dirname "$0")/lib.sh"
it_init
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_ACME" ] && [ -x "$ECA_EST" ] || die "build both daemons first"

d=$IT_TMP/r
mkdir -p "$d/out" "$d/www"
for n in x y; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
        -keyout "$d/out/$n.key" -out "$d/out/$n.pem" -subj "/CN=$n.test" \
        -addext "subjectAltName=DNS:$n.test" 2>/dev/null
    chmod 600 "$d/out/$n.key"
done

# wait_log LOG PATTERN: up to 10 s for a line matching PATTERN (count $3, default 1).
wait_log() {
    for _ in $(seq 100); do
        [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0
        sleep 0.1
    done
    die "$(basename "$1"): no '$2' (x${3:-1})"
}

# conf P NAMES...: a configuration file for daemon P with certificates NAMES.
conf() {
    local p=$1 n
    shift
    if [ "$p" = acme ]; then
        printf 'ca_url = "https://127.0.0.1:1/dir";\nwebroot = "%s";\n' "$d/www"
    else
        printf 'ca_url = "https://127.0.0.1:1";\nest_username = "u";\n'
        printf 'bootstrap_token_env = "TOKEN";\n'
    fi
    printf 'state_dir = "%s/state-%s";\ncertificates = (\n' "$d" "$p"
    for n in "$@"; do
        if [ "$p" = acme ]; then
            printf '  { name = "%s"; domains = [ "%s.test" ];' "$n" "$n"
        else
            printf '  { name = "%s"; subject_dn = "CN=%s.test";' "$n" "$n"
        fi
        printf ' cert_path = "%s/out/%s.pem"; key_path = "%s/out/%s.key"; },\n' "$d" "$n" "$d" "$n"
    done | sed '$ s/,$//'
    printf ');\n'
}

for p in acme est; do
    if [ $p = acme ]; then bin=$ECA_ACME; else bin=$ECA_EST; fi
    c=$d/$p.conf
    prom=$d/$p.prom
    conf $p x y >"$c"
    log "$p: two certificates, nothing due"
    TOKEN=secret METRICS_TEXTFILE="$prom" bg_start $p "$bin" --config "$c"
    pid=$BG_PID
    wait_log "$IT_TMP/$p.log" '"event":"cert_checked"' 2
    for _ in $(seq 50); do grep -q 'cert="y"' "$prom" 2>/dev/null && break; sleep 0.1; done
    grep -q 'cert="y"' "$prom" || die "$p: textfile lacks y"
    grep '"event":"cert_checked"' "$IT_TMP/$p.log" | head -n 1 |
        grep -qE '"not_after":"20[0-9-]+T[0-9:]+Z".*"next_check":"20[0-9-]+T[0-9:]+Z"' ||
        die "$p: cert_checked times are not RFC 3339 strings"

    log "$p: HUP with a broken file keeps the old configuration"
    echo 'certificates = (' >"$c"
    kill -HUP "$pid"
    wait_log "$IT_TMP/$p.log" '"event":"config_reload_failed"'

    log "$p: HUP without y drops y's metric series"
    conf $p x >"$c"
    kill -HUP "$pid"
    wait_log "$IT_TMP/$p.log" '"event":"config_reloaded"'
    wait_log "$IT_TMP/$p.log" '"event":"cert_checked"' 3
    for _ in $(seq 50); do grep -q 'cert="y"' "$prom" || break; sleep 0.1; done
    grep -q 'cert="y"' "$prom" && die "$p: y's series outlived its removal"
    grep -q 'cert="x"' "$prom" || die "$p: x's series are gone too"

    kill -TERM "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" = 0 ] || die "$p: exit $rc after TERM"
    grep -q '"event":"renew_started"' "$IT_TMP/$p.log" && die "$p: renewed a valid certificate"
done
log "PASS"
