#!/bin/bash
# SPDX-License-Identifier: MIT
# A configuration file with two certificates: a three-name order (pem, separate chain file,
# reload command) and a minio layout; both installed in one --once pass.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
mkdir -p "$d/out" "$d/minio"
cat >"$d/eca-acme.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$d/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
contact = [ "mailto:ops@example.test" ];
log_format = "json";
certificates = (
  { name = "multi"; domains = [ "a.multi.test", "b.multi.test", "c.multi.test" ];
    cert_path = "$d/out/multi.pem"; key_path = "$d/out/multi.key";
    chain_path = "$d/out/multi.chain.pem"; key_type = "rsa-2048";
    reload_command = "touch '$d/reloaded'"; },
  { name = "minio"; domains = [ "s3.multi.test" ]; layout = "minio";
    directory = "$d/minio"; key_type = "ec-p384"; }
);
CONF
run_agent multi --once --config "$d/eca-acme.conf" || die "--once exited $?"
assert_installed "$d/out/multi.pem" "$d/out/multi.key" a.multi.test b.multi.test c.multi.test
assert_installed "$d/minio/public.crt" "$d/minio/private.key" s3.multi.test
openssl x509 -in "$d/out/multi.pem" -noout -subject | grep -q 'a.multi.test' || die "subject"
openssl pkey -in "$d/out/multi.key" -noout -text | grep -q '2048 bit' || die "key not RSA-2048"
openssl pkey -in "$d/minio/private.key" -noout -text | grep -q 'P-384' || die "key not P-384"
[ -e "$d/reloaded" ] || die "reload command did not run"
grep -q '"event":"reload_done"' "$IT_TMP/multi.log" || die "no reload_done event"
log "PASS"
