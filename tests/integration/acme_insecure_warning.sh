#!/bin/bash
# SPDX-License-Identifier: MIT
# insecure = true (file and environment forms) logs an insecure_transport warning at start;
# without it an http:// CA URL is a config error; a CA URL's user:pass@ is refused, unechoed.
. "$(dirname "$0")/lib.sh"
it_init
[ -x "$ECA_ACME" ] || die "build eca-acme first ($ECA_ACME)"
d=$IT_TMP/a
mkdir -p "$d/out" "$d/www"
SECRET=canary-Url-Pw-91

acme() { env -i PATH="$PATH" HOME="$d" "$@"; }
base=(CERT_PATH="$d/out/c.pem" KEY_PATH="$d/out/k.pem" STATE_DIR="$d/state" DOMAIN_NAME=a.test WEBROOT="$d/www")

log "1. environment: INSECURE=true with an http:// URL warns"
acme "${base[@]}" CA_URL=http://127.0.0.1:1/dir INSECURE=true \
    timeout 20 "$ECA_ACME" --check-config >"$IT_TMP/env.log" 2>&1 || die "check-config failed"
grep -q '"level":"warn".*"event":"insecure_transport"' "$IT_TMP/env.log" || die "no warning (env)"

log "2. file: insecure = true warns"
cat >"$d/eca-acme.conf" <<CONF
ca_url = "http://127.0.0.1:1/dir";
insecure = true;
state_dir = "$d/state";
webroot = "$d/www";
certificates = ( { name = "a"; domains = [ "a.test" ];
                   cert_path = "$d/out/c.pem"; key_path = "$d/out/k.pem"; } );
CONF
acme timeout 20 "$ECA_ACME" --check-config --config "$d/eca-acme.conf" >"$IT_TMP/file.log" 2>&1 ||
    die "check-config (file) failed"
grep -q '"level":"warn".*"event":"insecure_transport"' "$IT_TMP/file.log" || die "no warning (file)"

log "3. no insecure: http:// refused, https:// without warning"
if acme "${base[@]}" CA_URL=http://127.0.0.1:1/dir timeout 20 "$ECA_ACME" --check-config \
    >"$IT_TMP/plain.log" 2>&1; then die "http:// accepted without insecure"; fi
grep -q 'must be an https:// URL' "$IT_TMP/plain.log" || die "no https error"
acme "${base[@]}" CA_URL=https://127.0.0.1:1/dir timeout 20 "$ECA_ACME" --check-config \
    >"$IT_TMP/https.log" 2>&1 || die "https check-config failed"
if grep -q insecure_transport "$IT_TMP/https.log"; then die "warning without insecure"; fi

log "4. user:pass@ in CA_URL: config error, password never in the output"
for u in "https://bob:$SECRET@127.0.0.1:1/dir" "http://bob:$SECRET@127.0.0.1:1/dir?$SECRET"; do
    if acme "${base[@]}" CA_URL="$u" timeout 20 "$ECA_ACME" --check-config \
        >"$IT_TMP/userinfo.log" 2>&1; then die "userinfo accepted: $u"; fi
    grep -q '"event":"config_invalid"' "$IT_TMP/userinfo.log" || die "no config_invalid"
    if grep -q -e "$SECRET" "$IT_TMP/userinfo.log"; then die "URL password logged"; fi
done
log "PASS"
