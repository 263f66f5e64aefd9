#!/bin/bash
# SPDX-License-Identifier: MIT
# Both daemons' loops with two valid certificates (nothing due, so no CA is contacted): one
# event shape (RFC 3339 not_after/next_check in cert_checked), a HUP that drops a certificate
# drops its metric series too, a HUP with a broken file keeps the old configuration, a
# certificate an operator replaces by hand is seen at the next pass (rewritten in place with
# its mtime restored, and renamed over: the agents keep what they read only while a file's
# identity holds), and TERM ends the daemon with exit 0.
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
# Older than the agents' settle time (2 s): what they read is kept, so a missed change would
# show below.
touch -d '-1 minute' "$d/out/"*

# replace_by_hand P HOW: a new certificate for x (same key) put in place as an operator would
# (HOW: "inplace" rewrites the file and restores its mtime, "rename" moves a new file over it);
# P's next pass must log its serial.
replace_by_hand() {
    local p=$1 how=$2 serial
    # Of the same size, as a renewal from the same CA often is: only inode, mtime or ctime
    # can tell (a signature's length varies by a byte or two: a few tries find one).
    for _ in $(seq 50); do
        openssl req -x509 -key "$d/out/x.key" -days 90 -out "$d/new.pem" -subj "/CN=x.test" \
            -addext "subjectAltName=DNS:x.test" 2>/dev/null
        [ "$(stat -c %s "$d/new.pem")" = "$(stat -c %s "$d/out/x.pem")" ] && break
    done
    [ "$(stat -c %s "$d/new.pem")" = "$(stat -c %s "$d/out/x.pem")" ] || die "no same-size certificate"
    serial=$(openssl x509 -in "$d/new.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
    if [ "$how" = inplace ]; then
        touch -r "$d/out/x.pem" "$d/ref"
        cat "$d/new.pem" >"$d/out/x.pem"
        touch -r "$d/ref" "$d/out/x.pem"
    else
        mv "$d/new.pem" "$d/out/x.pem"
    fi
    wait_log "$IT_TMP/$p.log" "\"event\":\"cert_checked\",\"cert\":\"x\".*\"serial\":\"$serial\""
}

# wait_log LOG PATTERN: up to 10 s for a line matching PATTERN (count $3, default 1).
wait_log() {
    for _ in $(seq 100); do
        [ "$(grep -c -e "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0
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

    log "$p: a certificate replaced by hand is seen at the next pass"
    conf $p x | sed 's/^state_dir/check_interval_seconds = 1;\nstate_dir/' >"$c"
    kill -HUP "$pid"
    wait_log "$IT_TMP/$p.log" '"event":"config_reloaded"' 2
    n=$(grep -c '"event":"cert_checked"' "$IT_TMP/$p.log")
    wait_log "$IT_TMP/$p.log" '"event":"cert_checked"' $((n + 2)) # a pass from what it kept
    replace_by_hand $p inplace
    replace_by_hand $p rename

    kill -TERM "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" = 0 ] || die "$p: exit $rc after TERM"
    grep -q '"event":"renew_started"' "$IT_TMP/$p.log" && die "$p: renewed a valid certificate"
done
log "PASS"
