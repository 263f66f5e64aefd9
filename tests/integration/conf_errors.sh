#!/bin/bash
# SPDX-License-Identifier: MIT
# Everything is checked before the CA is asked (issue 9 item 6), in both daemons: a typo in a
# setting name (named with file:line and the closest known name), a control character in a
# path or DN, a reload command with an unbalanced quote or a missing absolute program, a
# missing certificate directory (a directory at the key path: a warning). For each, --check-config exits 2
# with the message, and --once exits 2 with it too, before any connection to the CA (a
# listener counts them) and with nothing installed. Then: every setting name the loaders read
# is accepted, at the level it belongs to (a name missing from a known list would turn a valid
# file into an error).
# eca-timeout: 180
. "$(dirname "$0")/lib.sh"
it_init
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_ACME" ] && [ -x "$ECA_EST" ] || die "build both daemons first"

# A stand-in CA that counts the connections it accepts (and answers none of them).
ca_port=$(free_port)
count=$IT_TMP/connections
: >"$count"
bg_start ca python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f: f.write("x\n")
    c.close()
' "$ca_port" "$count"
wait_for_port "$ca_port"
# Connections since now (wait_for_port's own probe is counted when the listener gets to it).
sleep 0.5
base=$(wc -l <"$count")
connections() { echo $(($(wc -l <"$count") - base)); }

d=$IT_TMP/c
mkdir -p "$d/out"
token=$IT_TMP/token
printf 'tok\n' >"$token"

# conf_for DAEMON CERT_EXTRA [GLOBAL_EXTRA]: a file for DAEMON whose only certificate has
# CERT_EXTRA on line 5 (its paths under $d/out unless CERT_EXTRA sets them) and GLOBAL_EXTRA
# on line 2.
conf_for() {
    local daemon=$1 extra=$2 global=${3:-}
    local paths="cert_path = \"$d/out/c.pem\"; key_path = \"$d/out/k.pem\";"
    case $extra in *cert_path*) paths="key_path = \"$d/out/k.pem\";" ;; esac
    case $extra in *key_path*) paths="cert_path = \"$d/out/c.pem\";" ;; esac
    if [ "$daemon" = acme ]; then
        printf '%s\n' "ca_url = \"https://127.0.0.1:$ca_port/dir\";" "$global" \
            "state_dir = \"$d/state\"; http01_listen = \"127.0.0.1:$(free_port)\";" \
            "certificates = ( { name = \"c\"; domains = [ \"c.test\" ]; $paths" \
            "  $extra } );"
    else
        printf '%s\n' "ca_url = \"https://127.0.0.1:$ca_port\";" "$global" \
            "state_dir = \"$d/state\"; est_username = \"u\"; bootstrap_token_file = \"$token\";" \
            "certificates = ( { name = \"c\"; subject_dn = \"CN=c\"; $paths" \
            "  $extra } );"
    fi
}

# run DAEMON NAME ARGS...: exit status in $rc, stdout+stderr in $IT_TMP/NAME.log.
run() {
    local daemon=$1 name=$2 bin
    shift 2
    bin=$ECA_ACME
    [ "$daemon" = est ] && bin=$ECA_EST
    rc=0
    env -i PATH="$PATH" timeout --foreground 20 "$bin" --log-format text "$@" </dev/null \
        >"$IT_TMP/$name.log" 2>&1 || rc=$?
}

# refused DAEMON NAME WANT: --check-config and --once both exit 2 saying WANT; no connection
# to the CA, nothing installed, no state directory.
refused() {
    local daemon=$1 name=$2 want=$3 before
    before=$(connections)
    for mode in --check-config --once; do
        run "$daemon" "$name$mode" --config "$d/$daemon.conf" $mode
        [ "$rc" = 2 ] || die "$daemon $name $mode: exit $rc, want 2: $(cat "$IT_TMP/$name$mode.log")"
        grep -qF -- "$want" "$IT_TMP/$name$mode.log" ||
            die "$daemon $name $mode: no '$want' in: $(cat "$IT_TMP/$name$mode.log")"
    done
    [ "$(connections)" = "$before" ] || die "$daemon $name: the CA was contacted"
    [ -z "$(ls -A "$d/out")" ] || die "$daemon $name: something was installed: $(ls -A "$d/out")"
    [ ! -e "$d/state" ] || die "$daemon $name: the state directory was created"
}

for daemon in acme est; do
    f=$d/$daemon.conf
    log "$daemon: a valid file passes --check-config without contacting the CA"
    conf_for $daemon "" >"$f"
    run $daemon ok-$daemon --config "$f" --check-config
    [ "$rc" = 0 ] || die "$daemon: valid file refused: $(cat "$IT_TMP/ok-$daemon.log")"
    [ "$(connections)" = 0 ] || die "$daemon --check-config contacted the CA"

    log "$daemon: a typo in a certificate setting and in a global one"
    conf_for $daemon "renewal_treshold_percent = 20;" >"$f"
    refused $daemon typo "$f:5: certificates.[0].renewal_treshold_percent: unknown setting (did you mean renewal_threshold_percent?)"
    conf_for $daemon "" "chek_interval_seconds = 60;" >"$f"
    refused $daemon gtypo "$f:2: chek_interval_seconds: unknown setting (did you mean check_interval_seconds?)"

    log "$daemon: control characters"
    conf_for $daemon "cert_path = \"$d/out/c\\n.pem\";" >"$f"
    refused $daemon ctl "$f:5: certificates.[0].cert_path: contains a control character (0x0a"

    log "$daemon: reload commands"
    conf_for $daemon "reload_command = \"sh -c 'kill -HUP 1\";" >"$f"
    refused $daemon quote "$f:5: certificates.[0].reload_command: unbalanced ' quote"
    conf_for $daemon "reload_command = \"/nonexistent/sbin/nginx -s reload\";" >"$f"
    refused $daemon noprog "$f:5: certificates.[0].reload_command: /nonexistent/sbin/nginx"

    log "$daemon: a missing certificate directory, a directory at the key path"
    conf_for $daemon "cert_path = \"$d/nodir/c.pem\";" >"$f"
    refused $daemon nodir "$f:5: certificates.[0].cert_path: directory $d/nodir does not exist"
    [ ! -e "$d/nodir" ] || die "$daemon: the certificate directory was created"
    mkdir "$d/keydir"
    conf_for $daemon "key_path = \"$d/keydir\";" >"$f"
    # Not the configuration's fault but that certificate's: a warning, and it fails alone at its
    # passes (one bad file must not jam the daemon: fault_files runs that part).
    run $daemon keydir-$daemon --config "$f" --check-config
    [ "$rc" = 0 ] || die "$daemon: a directory at the key path refused the whole configuration"
    grep -q "config_warning.*key_path: $d/keydir exists and is not a regular file" \
        "$IT_TMP/keydir-$daemon.log" || die "$daemon: no warning: $(cat "$IT_TMP/keydir-$daemon.log")"
    rmdir "$d/keydir"

    log "$daemon: a bare reload program not in PATH is a warning, not an error"
    conf_for $daemon "reload_command = \"eca-no-such-reloader -s reload\";" >"$f"
    run $daemon warn-$daemon --config "$f" --check-config
    [ "$rc" = 0 ] || die "$daemon: bare missing program refused: $(cat "$IT_TMP/warn-$daemon.log")"
    grep -q "config_warning.*'eca-no-such-reloader' is not in PATH" "$IT_TMP/warn-$daemon.log" ||
        die "$daemon: no warning: $(cat "$IT_TMP/warn-$daemon.log")"
done

log "environment mode: a newline in SUBJECT_DN, a missing KEY_PATH directory"
rc=0
env -i PATH="$PATH" CA_URL="https://127.0.0.1:$ca_port" SUBJECT_DN=$'CN=x\nO=y' \
    CERT_PATH="$d/out/c.pem" KEY_PATH="$d/out/k.pem" STATE_DIR="$d/state" EST_USERNAME=u \
    BOOTSTRAP_TOKEN=tok timeout --foreground 20 "$ECA_EST" --once </dev/null \
    >"$IT_TMP/env-dn.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || die "SUBJECT_DN with a newline: exit $rc, want 2"
grep -q 'environment: SUBJECT_DN: contains a control character (0x0a at byte 4)' \
    "$IT_TMP/env-dn.log" || die "SUBJECT_DN: $(cat "$IT_TMP/env-dn.log")"
rc=0
env -i PATH="$PATH" CA_URL="https://127.0.0.1:$ca_port/dir" DOMAIN_NAME=x.test \
    CERT_PATH="$d/out/c.pem" KEY_PATH="$d/gone/k.pem" STATE_DIR="$d/state" \
    HTTP01_LISTEN="127.0.0.1:$(free_port)" timeout --foreground 20 "$ECA_ACME" --once \
    </dev/null >"$IT_TMP/env-key.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || die "KEY_PATH in a missing directory: exit $rc, want 2"
grep -q "environment: KEY_PATH: directory $d/gone does not exist" "$IT_TMP/env-key.log" ||
    die "KEY_PATH: $(cat "$IT_TMP/env-key.log")"
[ "$(connections)" = 0 ] || die "environment mode: the CA was contacted"

log "the counter counts: a valid --once run does contact the stand-in CA"
conf_for acme "" >"$d/acme.conf"
run acme contact --config "$d/acme.conf" --once
[ "$rc" = 1 ] || die "valid file against a CA that answers nothing: exit $rc, want 1"
[ "$(connections)" -gt 0 ] || die "no connection counted: the counter proves nothing"
base=$(wc -l <"$count")

log "every setting name the loaders read is accepted where it belongs"
# Names passed to the getters in the loaders, as in docs_check.sh (across line breaks).
names_in() {
    perl -0777 -ne 'while (/\b(?:eca_conf_(?:get_str|get_int|get_bool|str_list|str|where_file)|config_setting_get_member)\(\s*(?:root|g),\s*"([a-z][a-z0-9_]*)"/g) { print "$1\n" }' "$@" |
        sort -u
}
shared=$(names_in common/eca_agentconf.c common/eca_conf.c)
[ -n "$shared" ] && [ -n "$(names_in eca-acme/acme_conf.c)" ] && [ -n "$(names_in eca-est/est_conf.c)" ] ||
    die "no setting name found in the loaders (is the grep still right?)"
checked=0
for daemon in acme est; do
    src=eca-acme/acme_conf.c
    [ "$daemon" = est ] && src=eca-est/est_conf.c
    conf_for $daemon "" >"$d/base.conf"
    for n in $( { echo "$shared"; names_in "$src"; } | sort -u); do
        # A name the base file sets is known already (a second one would be a syntax error).
        grep -qE "(^|[ {;])$n = " "$d/base.conf" && continue
        known=0
        conf_for $daemon "" "$n = \"x\";" >"$d/$daemon.conf"
        run $daemon name-root --config "$d/$daemon.conf" --check-config
        grep -q ": $n: unknown setting" "$IT_TMP/name-root.log" || known=1
        conf_for $daemon "$n = \"x\";" >"$d/$daemon.conf"
        run $daemon name-cert --config "$d/$daemon.conf" --check-config
        grep -q "\]\.$n: unknown setting" "$IT_TMP/name-cert.log" || known=1
        [ "$known" = 1 ] || die "$daemon reads '$n' but refuses it as an unknown setting"
        checked=$((checked + 1))
    done
done
[ "$checked" -ge 40 ] || die "only $checked names checked (is the grep still right?)"
log "$checked setting names accepted"
[ "$(connections)" = 0 ] || die "a --check-config contacted the CA"
log "PASS"
