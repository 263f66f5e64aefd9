#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: one-shot ACME issuance (eca-acme --once) against a local pebble, with a reused
# account and with a new account each time, then the same with uacme (the fastest C client)
# against the same pebble and the same http-01 webroot; then obtain (nothing installed) and
# renew (forced over the installed certificate) with both clients interleaved round by round,
# with the ratios of the medians. Prints wall time and peak RSS.
#
#   BENCH_N=10 tests/bench/bench_acme_issue.sh        (BENCH_UACME=0 skips uacme)
#
# uacme trusts only the system CA store, so the script re-runs itself in a private mount
# namespace (unshare -m, as root) and bind-mounts a bundle with pebble's TLS CA over
# /etc/ssl/certs/ca-certificates.crt there; nothing outside the namespace changes.
if [ -z "${BENCH_NS:-}" ] && [ "${BENCH_UACME:-1}" != 0 ] && [ "$(id -u)" = 0 ] &&
    command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    BENCH_NS=1 exec unshare -m bash "$0" "$@"
fi
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_bench.sh"
it_init
# Dozens of forced issuances of one certificate on purpose: no issuance budget.
export ISSUANCE_BUDGET=0
bench_init
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
N=${BENCH_N:-10}
NAME=bench.test

bench_start_pebble

# eca_env DIR: the agent's environment for a certificate (and state) under DIR.
eca_env() {
    agent_env "$1"
    export LOG_LEVEL=${BENCH_LOG_LEVEL:-debug} DOMAIN_NAME=$NAME
}
ACME_ONCE=(timeout 60 "$ECA_ACME" --once)

log "eca-acme, built-in http-01 listener, reused account: 1 warm-up + $N runs"
export HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"
eca_env "$IT_TMP/reuse"
"${ACME_ONCE[@]}" >"$IT_TMP/warmup.log" 2>&1 || die "warm-up issuance failed"
: >"$IT_TMP/eca-reuse.log"
for i in $(seq "$N"); do
    bench_run eca-acme/listener/reused-account "${ACME_ONCE[@]}" --force
    cat "$IT_TMP/last.log" >>"$IT_TMP/eca-reuse.log"
done
grep -q '"event":"account_key_created"' "$IT_TMP/eca-reuse.log" && die "account not reused"

log "eca-acme, built-in listener, new account key and account each run: $N runs"
for i in $(seq "$N"); do
    eca_env "$IT_TMP/new-$i"
    bench_run eca-acme/listener/new-account "${ACME_ONCE[@]}"
    grep -q '"created":true' "$IT_TMP/last.log" || die "no account created in run $i"
done
unset HTTP01_LISTEN

# The same webroot for both clients from here on: files under $WWW served on pebble's
# http-01 port by a small Python server.
WWW=$IT_TMP/www
mkdir -p "$WWW/.well-known/acme-challenge"
bg_start webroot python3 -m http.server --bind 127.0.0.1 --directory "$WWW" "$PEBBLE_HTTP01_PORT"
wait_for_port "$PEBBLE_HTTP01_PORT" 10

log "eca-acme, webroot, reused account: 1 warm-up + $N runs"
export WEBROOT=$WWW
eca_env "$IT_TMP/webroot"
"${ACME_ONCE[@]}" >"$IT_TMP/warmup-webroot.log" 2>&1 || die "webroot warm-up failed"
for i in $(seq "$N"); do
    bench_run eca-acme/webroot/reused-account "${ACME_ONCE[@]}" --force
done
unset WEBROOT

if [ -n "${BENCH_NS:-}" ]; then
    # Debian's uacme comes from scripts/deps.sh (`make bench` runs it first): nothing here installs.
    command -v uacme >/dev/null || die "uacme missing: run scripts/deps.sh (or BENCH_UACME=0)"
    cat /etc/ssl/certs/ca-certificates.crt "$PEBBLE_TLS_CA" >"$IT_TMP/bundle.pem"
    mount --bind "$IT_TMP/bundle.pem" /etc/ssl/certs/ca-certificates.crt ||
        die "cannot bind-mount the CA bundle in the private namespace"
    # uacme's hook: METHOD TYPE IDENT TOKEN AUTH; http-01 only, files in the webroot.
    cat >"$IT_TMP/hook.sh" <<HOOK
#!/bin/sh
[ "\$2" = http-01 ] || exit 1
f="$WWW/.well-known/acme-challenge/\$4"
case "\$1" in
begin) printf '%s' "\$5" >"\$f" ;;
*) rm -f "\$f" ;;
esac
HOOK
    chmod +x "$IT_TMP/hook.sh"
    UACME=(timeout 60 uacme -a "$PEBBLE_DIR_URL" -h "$IT_TMP/hook.sh" -t EC -y)

    log "uacme $(uacme -V 2>&1 | head -n1 | cut -d' ' -f3), webroot, reused account: 1 warm-up + $N runs"
    "${UACME[@]}" -c "$IT_TMP/uacme" new >"$IT_TMP/uacme-new.log" 2>&1 || die "uacme new failed"
    "${UACME[@]}" -c "$IT_TMP/uacme" -o -f issue "$NAME" >"$IT_TMP/uacme-warmup.log" 2>&1 ||
        die "uacme warm-up issue failed"
    for i in $(seq "$N"); do
        # uacme names the old certificate after its notBefore second and refuses to
        # overwrite it: drop the certificate directory (the key stays under private/).
        rm -rf "${IT_TMP:?}/uacme/$NAME"
        bench_run uacme/webroot/reused-account "${UACME[@]}" -c "$IT_TMP/uacme" -o -f issue "$NAME"
    done

    log "uacme, webroot, new account each run (uacme new + uacme issue): $N runs"
    for i in $(seq "$N"); do
        bench_run uacme/new-account.new "${UACME[@]}" -c "$IT_TMP/uacme-$i" new
        w1=$BENCH_LAST_US r1=$(awk '$1 == "uacme/new-account.new" {r = $3} END {print r}' "$BENCH_RESULTS")
        bench_run uacme/new-account.issue "${UACME[@]}" -c "$IT_TMP/uacme-$i" -o issue "$NAME"
        r2=$(awk '$1 == "uacme/new-account.issue" {r = $3} END {print r}' "$BENCH_RESULTS")
        bench_add uacme/webroot/new-account $((w1 + BENCH_LAST_US)) $((r1 > r2 ? r1 : r2))
    done

    # The issue's pair of numbers, side by side: each round runs eca-acme and uacme one after
    # the other (load drift hits both), over the same webroot, reused accounts. Obtain: nothing
    # installed yet. Renew: the installed certificate replaced, forced (eca-acme --force,
    # uacme -f with its certificate in place).
    log "obtain and renew, eca-acme and uacme interleaved, webroot, reused accounts: $N rounds"
    export WEBROOT=$WWW
    eca_env "$IT_TMP/pair"
    "${ACME_ONCE[@]}" >"$IT_TMP/warmup-pair.log" 2>&1 || die "eca-acme pair warm-up failed"
    "${UACME[@]}" -c "$IT_TMP/uacme-pair" new >"$IT_TMP/uacme-pair-new.log" 2>&1 ||
        die "uacme new (pair) failed"
    "${UACME[@]}" -c "$IT_TMP/uacme-pair" -o -f issue "$NAME" >"$IT_TMP/uacme-pair-warmup.log" 2>&1 ||
        die "uacme pair warm-up failed"
    for i in $(seq "$N"); do
        rm -f "$IT_TMP/pair/out/"*
        bench_run eca-acme/obtain "${ACME_ONCE[@]}"
        grep -q '"reason":"missing"' "$IT_TMP/last.log" || die "eca-acme obtain $i: not a first certificate"
        rm -rf "${IT_TMP:?}/uacme-pair/$NAME"
        bench_run uacme/obtain "${UACME[@]}" -c "$IT_TMP/uacme-pair" -o -f issue "$NAME"
        bench_run eca-acme/renew "${ACME_ONCE[@]}" --force
        grep -q '"reason":"forced"' "$IT_TMP/last.log" || die "eca-acme renew $i: not a renewal"
        # uacme keeps the certificate it replaces as cert-<notBefore>.pem and refuses to
        # overwrite one: two renewals in the same second would collide.
        rm -f "$IT_TMP/uacme-pair/$NAME"/cert-*.pem
        [ -e "$IT_TMP/uacme-pair/$NAME/cert.pem" ] || die "uacme renew $i: no certificate to renew"
        bench_run uacme/renew "${UACME[@]}" -c "$IT_TMP/uacme-pair" -o -f issue "$NAME"
    done
    unset WEBROOT
else
    log "uacme skipped (BENCH_UACME=0, or no root / unshare for its CA trust)"
fi

echo "==== ACME issuance, pebble $PEBBLE_DIR_URL (nonce reject ${BENCH_NONCEREJECT:-0}%)"
bench_machine
for l in eca-acme/listener/reused-account eca-acme/listener/new-account \
    eca-acme/webroot/reused-account uacme/webroot/reused-account uacme/webroot/new-account; do
    grep -q "^$l " "$BENCH_RESULTS" && bench_report "$l"
done
if grep -q "^uacme/renew " "$BENCH_RESULTS"; then
    echo "obtain and renew, interleaved (target: eca-acme at most 0.15 of uacme's time):"
    for l in eca-acme/obtain uacme/obtain eca-acme/renew uacme/renew; do bench_report "$l"; done
    bench_ratio eca-acme/obtain uacme/obtain
    bench_ratio eca-acme/renew uacme/renew
fi
grep -c '"event":"http_exchange"' "$IT_TMP/eca-reuse.log" |
    awk -v n="$N" '{printf "eca-acme requests per reused-account issuance: %.1f\n", $1 / n}'
bench_log_field "$IT_TMP/eca-reuse.log" acme_poll_wait wait_ms | sort -n | uniq -c |
    awk '{printf "%s%s x %s ms", (NR > 1 ? ", " : "eca-acme poll waits: "), $1, $2} END {print ""}'
