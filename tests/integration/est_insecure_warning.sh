#!/bin/bash
# SPDX-License-Identifier: MIT
# insecure = true (file and environment forms) logs an insecure_transport warning at start;
# without it an http:// CA URL is a config error; a CA URL's user:pass@ is refused, unechoed.
. "$(dirname "$0")/lib.sh"
it_init
ECA_EST=${ECA_EST:-$BUILD/eca-est}
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
d=$IT_TMP/a
mkdir -p "$d/out"
SECRET=canary-Url-Pw-92

est() { env -i PATH="$PATH" HOME="$d" "$@"; }
base=(CERT_PATH="$d/out/c.pem" KEY_PATH="$d/out/k.pem" STATE_DIR="$d/state" SUBJECT_DN=CN=x
    EST_USERNAME=u BOOTSTRAP_TOKEN=tok)

log "1. environment: INSECURE=true with an http:// URL warns"
est "${base[@]}" CA_URL=http://127.0.0.1:1 INSECURE=true \
    timeout 20 "$ECA_EST" --check-config >"$IT_TMP/env.log" 2>&1 || die "check-config failed"
grep -q '"level":"warn".*"event":"insecure_transport"' "$IT_TMP/env.log" || die "no warning (env)"

log "2. file: insecure = true warns"
cat >"$d/eca-est.conf" <<CONF
ca_url = "http://127.0.0.1:1";
insecure = true;
state_dir = "$d/state";
est_username = "u";
bootstrap_token_env = "MY_TOKEN";
certificates = ( { name = "a"; subject_dn = "CN=x";
                   cert_path = "$d/out/c.pem"; key_path = "$d/out/k.pem"; } );
CONF
est MY_TOKEN=tok timeout 20 "$ECA_EST" --check-config --config "$d/eca-est.conf" \
    >"$IT_TMP/file.log" 2>&1 || die "check-config (file) failed"
grep -q '"level":"warn".*"event":"insecure_transport"' "$IT_TMP/file.log" || die "no warning (file)"

log "3. no insecure: http:// refused, https:// without warning"
if est "${base[@]}" CA_URL=http://127.0.0.1:1 timeout 20 "$ECA_EST" --check-config \
    >"$IT_TMP/plain.log" 2>&1; then die "http:// accepted without insecure"; fi
grep -q 'must be an https:// URL' "$IT_TMP/plain.log" || die "no https error"
est "${base[@]}" CA_URL=https://127.0.0.1:1 timeout 20 "$ECA_EST" --check-config \
    >"$IT_TMP/https.log" 2>&1 || die "https check-config failed"
if grep -q insecure_transport "$IT_TMP/https.log"; then die "warning without insecure"; fi

log "4. user:pass@ in CA_URL: config error, password never in the output"
for u in "https://bob:$SECRET@127.0.0.1:1" "http://bob:$SECRET@127.0.0.1:1/?$SECRET"; do
    if est "${base[@]}" CA_URL="$u" timeout 20 "$ECA_EST" --check-config \
        >"$IT_TMP/userinfo.log" 2>&1; then die "userinfo accepted: $u"; fi
    grep -q '"event":"config_invalid"' "$IT_TMP/userinfo.log" || die "no config_invalid"
    if grep -q -e "$SECRET" "$IT_TMP/userinfo.log"; then die "URL password logged"; fi
done
log "PASS"
