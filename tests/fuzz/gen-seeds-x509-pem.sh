#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate the public-only seed corpus for fuzz_x509_pem (keys are made in a temp dir and discarded).
set -eu
out=${1:-tests/fuzz/corpus/fuzz_x509_pem}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$tmp"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ec root.key; ec int.key; ec leaf.key
openssl req -x509 -new -key root.key -subj "/CN=Seed Root CA" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -out root.pem
openssl req -new -key int.key -subj "/CN=Seed Intermediate CA" -out int.csr
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > ca.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 \
    -extfile ca.ext -out int.pem 2>/dev/null
openssl req -new -key leaf.key -subj "/CN=seed.test/O=Seed, Inc." -out leaf.csr
printf 'subjectAltName=DNS:seed.test,DNS:www.seed.test\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 90 \
    -extfile leaf.ext -out leaf.pem 2>/dev/null
cat leaf.pem int.pem root.pem > "$out/chain_ordered.pem"
cat root.pem leaf.pem int.pem > "$out/chain_shuffled.pem"
{ echo "subject=CN = seed.test"; cat leaf.pem; echo "# comment"; cat int.pem; } > "$out/chain_junk.pem"
cp root.pem "$out/self_signed.pem"
head -c 300 leaf.pem > "$out/truncated.pem"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' > "$out/bad_der.pem"
