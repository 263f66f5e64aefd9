#!/bin/bash
# SPDX-License-Identifier: MIT
# dns-01 through a hook (lego exec-provider convention) against pebble with challtestsrv as
# its DNS: a plain name, a wildcard with its base name, and a certificate with an IP address
# (RFC 8738, http-01) beside a name (dns-01); every record presented is cleaned up; a wildcard
# in environment mode with no http-01 method at all. Then a
# hook whose "present" fails: no certificate, and the cleanup still runs. Throughout, the hook
# command carries a canary argument and the agent's environment a canary credential (as a DNS
# provider token would be): the hook gets both, and neither reaches any log output, the status
# or the state files, at debug level, also when the hook fails.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
hooklog=$IT_TMP/hook.calls
mkdir -p "$d/out"
export DNS01_HOOK_LOG=$hooklog
CANARY_ARG=canary-arg-$RANDOM$RANDOM CANARY_ENV=canary-env-$RANDOM$RANDOM
export DNS_PROVIDER_TOKEN=$CANARY_ENV

# The hook, in lego's exec-provider shape: `hook present|cleanup NAME VALUE`. It sets or clears
# the TXT record through challtestsrv's management API and appends what it did, with the
# ECA_DNS01_* variables it saw, to $DNS01_HOOK_LOG. DNS01_HOOK_FAIL=present|cleanup makes that
# action fail (exit 3).
# A first argument --token=T (the canary in the command) is noted as "arg-ok" when T is the
# provider token given to the agent (DNS_PROVIDER_TOKEN, the other canary), never printed.
cat >"$IT_TMP/dns01-hook.sh" <<'HOOK'
#!/bin/bash
set -euo pipefail
token=
case "$1" in --token=*) token=${1#--token=}; shift ;; esac
action=$1 name=$2 value=$3
: "${CHALLTESTSRV:?}" "${DNS01_HOOK_LOG:?}"
[ -n "$token" ] && [ -n "${DNS_PROVIDER_TOKEN:-}" ] && echo "creds arg-ok env-ok" >>"$DNS01_HOOK_LOG"
echo "$action $name $value env=${ECA_DNS01_NAME:-} ${ECA_DNS01_VALUE:-} ${ECA_DNS01_DOMAIN:-}" \
    >>"$DNS01_HOOK_LOG"
[ "${DNS01_HOOK_FAIL:-}" = "$action" ] && exit 3
case "$action" in
present)
    curl -sSf --max-time 10 -X POST -d "{\"host\":\"$name\",\"value\":\"$value\"}" \
        "$CHALLTESTSRV/set-txt" </dev/null
    ;;
cleanup)
    curl -sSf --max-time 10 -X POST -d "{\"host\":\"$name\"}" "$CHALLTESTSRV/clear-txt" </dev/null
    ;;
*)
    echo "dns01-hook.sh: unknown action $action" >&2
    exit 2
    ;;
esac
HOOK
chmod 0755 "$IT_TMP/dns01-hook.sh"
cat >"$d/eca-acme.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
dns01_hook = "$IT_TMP/dns01-hook.sh --token=$CANARY_ARG";
log_format = "json";
log_level = "debug";
certificates = (
  { name = "plain"; domains = [ "d.dns.test" ];
    cert_path = "$d/out/plain.pem"; key_path = "$d/out/plain.key"; },
  { name = "wild"; domains = [ "*.w.test", "w.test" ];
    cert_path = "$d/out/wild.pem"; key_path = "$d/out/wild.key"; },
  { name = "ip"; domains = [ "mix.dns.test", "127.0.0.1" ];
    cert_path = "$d/out/ip.pem"; key_path = "$d/out/ip.key"; }
);
CONF
run_agent dns01 --once --config "$d/eca-acme.conf" || die "--once exited $?"
assert_installed "$d/out/plain.pem" "$d/out/plain.key" d.dns.test
assert_installed "$d/out/wild.pem" "$d/out/wild.key" '*.w.test' w.test
assert_installed "$d/out/ip.pem" "$d/out/ip.key" mix.dns.test 127.0.0.1
openssl x509 -in "$d/out/ip.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
    die "127.0.0.1 is not an iPAddress SAN"

# Every DNS name went through the hook, with lego's arguments and certbot's variables; the
# wildcard and its base name share one record name with two values.
for name in d.dns.test w.test mix.dns.test; do
    grep -q "^present _acme-challenge\.$name\. [A-Za-z0-9_-]\{43\} env=_acme-challenge\.$name\. [A-Za-z0-9_-]\{43\} $name\$" \
        "$hooklog" || die "no present call for $name: $(cat "$hooklog")"
done
[ "$(grep -c '^present _acme-challenge\.w\.test\. ' "$hooklog")" = 2 ] ||
    die "want two records for *.w.test and w.test: $(cat "$hooklog")"
# The address was answered over http-01, never through DNS.
! grep -q '127\.0\.0\.1' "$hooklog" || die "the hook was called for 127.0.0.1"
# Each record presented was cleaned up with the same name and value.
{ grep '^present ' "$hooklog" || true; } | cut -d' ' -f2,3 | sort >"$IT_TMP/presented"
{ grep '^cleanup ' "$hooklog" || true; } | cut -d' ' -f2,3 | sort >"$IT_TMP/cleaned"
[ -s "$IT_TMP/presented" ] && cmp -s "$IT_TMP/presented" "$IT_TMP/cleaned" ||
    die "cleanup calls differ from present calls: $(cat "$hooklog")"
grep -q '"event":"dns01_cleanup"' "$IT_TMP/dns01.log" || die "no dns01_cleanup event"
# A second pass has nothing to do: the installed names (wildcard, address) match the config.
run_agent dns01-again --once --config "$d/eca-acme.conf" || die "second --once exited $?"
! grep -q '"event":"renew_started"' "$IT_TMP/dns01-again.log" ||
    die "the second pass renewed: installed names not recognised"

# Environment mode: a wildcard alone, DNS01_HOOK and no http-01 method at all.
(
    agent_env "$IT_TMP/env"
    export DOMAIN_NAME='*.e.test' DNS01_HOOK="$IT_TMP/dns01-hook.sh --token=$CANARY_ARG" LOG_FORMAT=json
    unset HTTP01_LISTEN WEBROOT
    run_agent env --once || die "environment mode --once exited $?"
    assert_installed "$IT_TMP/env/out/cert.pem" "$IT_TMP/env/out/key.pem" '*.e.test'
)
grep -q '^cleanup _acme-challenge\.e\.test\. ' "$hooklog" || die "no cleanup for *.e.test"

# A hook whose "present" fails: the order fails, nothing is installed, cleanup still runs.
: >"$hooklog"
sed -n '1,/^certificates/p' "$d/eca-acme.conf" >"$d/broken.conf"
cat >>"$d/broken.conf" <<CONF
  { name = "broken"; domains = [ "d.dns.test" ];
    cert_path = "$d/out/broken.pem"; key_path = "$d/out/broken.key"; }
);
CONF
DNS01_HOOK_FAIL=present run_agent broken --once --config "$d/broken.conf" &&
    die "--once succeeded with a failing hook"
[ ! -e "$d/out/broken.pem" ] || die "a certificate was installed although the hook failed"
grep -q '^present _acme-challenge\.d\.dns\.test\. ' "$hooklog" || die "present not called"
grep -q '^cleanup _acme-challenge\.d\.dns\.test\. ' "$hooklog" ||
    die "no cleanup after the failed present: $(cat "$hooklog")"
grep -q 'dns01_hook present _acme-challenge.d.dns.test.: .*exited with status 3' \
    "$IT_TMP/broken.log" || die "the failure does not name the hook and its status"
grep -q "^creds arg-ok env-ok" "$hooklog" || die "the hook did not get its canary argument and token"

# The canaries: the hook got them (above), nothing the agent wrote holds them. The command
# checks and status too, in text and JSON.
run_agent check --check-config --config "$d/eca-acme.conf" || die "--check-config exited $?"
"$ECA_ACME" --config "$d/eca-acme.conf" status >"$IT_TMP/status.log" 2>&1 || true
"$ECA_ACME" --config "$d/eca-acme.conf" status --json >"$IT_TMP/status-json.log" 2>&1 || true
for f in "$IT_TMP"/*.log; do
    case "$(basename "$f")" in pebble.log | challtestsrv.log) continue ;; esac
    [ -s "$f" ] || continue
    ! grep -qF -e "$CANARY_ARG" -e "$CANARY_ENV" "$f" ||
        die "a canary leaked into $(basename "$f"): $(grep -F -e "$CANARY_ARG" -e "$CANARY_ENV" "$f" | head -n 3)"
done
! grep -rqF -e "$CANARY_ARG" -e "$CANARY_ENV" "$d/state" "$IT_TMP/env/state" ||
    die "a canary leaked into the state files: $(grep -rlF -e "$CANARY_ARG" -e "$CANARY_ENV" "$d/state" "$IT_TMP/env/state")"
log "PASS"
