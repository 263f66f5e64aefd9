#!/bin/bash
# SPDX-License-Identifier: MIT
# Both daemons' own command lines (usage errors name the argument and exit 2; --help and
# --version exit 0) and `status` as a health check: exit 0 when every certificate is valid and
# not due, 1 when one is missing, failing or past its renewal point, 2 on a configuration
# error; it needs no credentials and creates, replays and writes nothing. No CA is contacted.
# eca-timeout: 120
. "$(dirname "$0")/lib.sh"
it_init
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_ACME" ] && [ -x "$ECA_EST" ] || die "build both daemons first"

# run_cli NAME BIN ARGS...: exit status in $rc, stdout in NAME.out, stderr in NAME.err.
run_cli() {
    local name=$1
    shift
    rc=0
    timeout 20 "$@" </dev/null >"$IT_TMP/$name.out" 2>"$IT_TMP/$name.err" || rc=$?
}

# usage_error PROG WANT ARGS...: exit 2, exactly WANT on stderr, nothing on stdout.
usage_error() {
    local prog=$1 want=$2
    shift 2
    run_cli usage "$BUILD/$prog" "$@"
    [ "$rc" = 2 ] || die "$prog $*: exit $rc, want 2"
    [ "$(cat "$IT_TMP/usage.err")" = "$want" ] || die "$prog $*: stderr '$(cat "$IT_TMP/usage.err")'"
    [ ! -s "$IT_TMP/usage.out" ] || die "$prog $*: wrote to stdout"
}

log "command lines"
for p in eca-acme eca-est; do
    usage_error $p "$p: --frobnicate: unknown option or argument (see --help)" \
        --config x --frobnicate
    usage_error $p "$p: status: unknown option or argument (see --help)" status status
    usage_error $p "$p: --json: unknown option or argument (see --help)" --json
    usage_error $p "$p: --config: missing argument" --config
    usage_error $p "$p: --log-format: missing argument" --log-format
    usage_error $p "$p: --log-format: expected json or text" --log-format xml
    usage_error $p "$p: --cert: unknown option or argument (see --help)" --cert web
    run_cli version "$BUILD/$p" --version --frobnicate
    [ "$rc" = 0 ] && grep -qx -e "$p [0-9][0-9.]*" "$IT_TMP/version.out" || die "$p --version"
    for h in --help -h; do
        run_cli help "$BUILD/$p" $h
        [ "$rc" = 0 ] && grep -q "^usage: $p " "$IT_TMP/help.out" || die "$p $h"
        [ ! -s "$IT_TMP/help.err" ] || die "$p $h wrote to stderr"
    done
    # Every shared option is taken: the run goes on to the configuration, in text logs.
    run_cli opts "$BUILD/$p" --config "$IT_TMP/absent.conf" --once --force --check-config \
        --log-format text
    [ "$rc" = 2 ] || die "$p with every option: exit $rc, want 2 (no such file)"
    grep -q 'config_invalid' "$IT_TMP/opts.err" || die "$p: no config_invalid"
    grep -q '^{' "$IT_TMP/opts.err" && die "$p: --log-format text not applied"
done
usage_error eca-est "eca-est: revoke: unknown option or argument (see --help)" revoke
usage_error eca-acme "eca-acme: --cert: missing argument" revoke --cert
usage_error eca-acme "eca-acme: --renew: unknown option or argument (see --help)" --renew
for r in 11 -1 3x ""; do
    usage_error eca-acme "eca-acme: --reason: expected 0..10 (RFC 5280 §5.3.1)" revoke --reason "$r"
done

# ---- status ----
d=$IT_TMP/s
mkdir -p "$d/out" "$d/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
    -keyout "$d/out/key.pem" -out "$d/out/cert.pem" -subj /CN=x.test \
    -addext subjectAltName=DNS:x.test 2>/dev/null
chmod 600 "$d/out/key.pem"
serial=$(cert_serial "$d/out/cert.pem")
common=(env -i PATH="$PATH" CERT_PATH="$d/out/cert.pem" KEY_PATH="$d/out/key.pem")
acme=("${common[@]}" CA_URL=https://127.0.0.1:1/dir DOMAIN_NAME=x.test WEBROOT="$d/www")
# No EST_USERNAME, no bootstrap token or certificate: `status` needs none.
est=("${common[@]}" CA_URL=https://127.0.0.1:1 SUBJECT_DN=CN=x.test)

# status_is WANT LOGNAME CMD...: `status` exits WANT.
status_is() {
    local want=$1 name=$2
    shift 2
    run_cli "$name" "$@"
    [ "$rc" = "$want" ] || die "$name: status exit $rc, want $want: $(cat "$IT_TMP/$name.err")"
}

for p in acme est; do
    if [ $p = acme ]; then envv=("${acme[@]}"); bin=$ECA_ACME; else envv=("${est[@]}"); bin=$ECA_EST; fi
    st=$d/state-$p
    log "$p: status creates nothing"
    status_is 0 $p-fresh "${envv[@]}" STATE_DIR="$st" "$bin" status
    grep -q "serial:    $serial" "$IT_TMP/$p-fresh.out" || die "$p: status lacks the serial"
    [ ! -e "$st" ] || die "$p: status created STATE_DIR"

    log "$p: a journal is not replayed, no status file written"
    mkdir -m 700 "$st"
    printf 'not a journal\n' >"$st/x.test.journal"
    status_is 0 $p-journal "${envv[@]}" STATE_DIR="$st" "$bin" status --json
    grep -q '"next_reason":"check"\|"next_reason":"renew"' "$IT_TMP/$p-journal.out" ||
        die "$p: status --json: $(cat "$IT_TMP/$p-journal.out")"
    [ "$(cat "$st/x.test.journal")" = "not a journal" ] || die "$p: status touched the journal"
    [ ! -e "$st/status.json" ] || die "$p: status wrote the status file"
    rm "$st/x.test.journal"

    log "$p: failing, past the renewal point, missing: exit 1"
    printf 'eca-sched 1 2 %s 0 ENET\nconnect: refused\n' $(($(date +%s) + 600)) >"$st/x.test.sched"
    status_is 1 $p-failing "${envv[@]}" STATE_DIR="$st" "$bin" status --json
    grep -q '"next_reason":"retry"' "$IT_TMP/$p-failing.out" || die "$p: no retry in status"
    rm "$st/x.test.sched"
    status_is 0 $p-healed "${envv[@]}" STATE_DIR="$st" "$bin" status
    sleep 2
    status_is 1 $p-old "${envv[@]}" STATE_DIR="$st" MAX_AGE_SECONDS=1 "$bin" status
    status_is 1 $p-missing "${envv[@]}" STATE_DIR="$st" CERT_PATH="$d/out/none.pem" "$bin" status

    log "$p: configuration error: exit 2"
    status_is 2 $p-badconf "${envv[@]}" STATE_DIR="$st" KEY_TYPE=dsa "$bin" status
done

# What `status` does not need is still checked where it is needed.
run_cli acme-eab "${acme[@]}" STATE_DIR="$d/state-acme" EAB_KID=kid "$ECA_ACME" --check-config
[ "$rc" = 2 ] || die "eca-acme --check-config with half an EAB pair: exit $rc, want 2"
status_is 0 acme-eab-status "${acme[@]}" STATE_DIR="$d/state-acme" EAB_KID=kid "$ECA_ACME" status
run_cli est-creds "${est[@]}" STATE_DIR="$d/state-est" BOOTSTRAP_CERT_PATH="$d/b.pem" \
    "$ECA_EST" --check-config
[ "$rc" = 2 ] || die "eca-est --check-config with half a bootstrap pair: exit $rc, want 2"
status_is 0 est-creds-status "${est[@]}" STATE_DIR="$d/state-est" BOOTSTRAP_CERT_PATH="$d/b.pem" \
    "$ECA_EST" status
# No credential at all is a valid configuration (issue 10): re-enrollment uses the installed
# certificate, and a server may need no HTTP authentication.
run_cli est-nocreds "${est[@]}" STATE_DIR="$d/state-est" "$ECA_EST" --check-config
[ "$rc" = 0 ] || die "eca-est --check-config without credentials: exit $rc, want 0"
log "PASS"
