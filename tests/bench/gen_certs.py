#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write N ten-year EC P-256 certificates (leaf + CA, with SAN and AKI as an ACME CA issues them)
and their keys (0600) into DIR from one throwaway CA: ca.pem, and d<k>/c<i>.pem, d<k>/c<i>.key
with PER_DIR (default 100) certificates per subdirectory d<k>, k = (i - 1) // PER_DIR.
Benchmarks only."""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    per_dir = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ECA bench CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(out, "ca.pem"), "wb") as f:
        f.write(ca_pem)
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    old = os.umask(0o077)
    for i in range(1, n + 1):
        key = ec.generate_private_key(ec.SECP256R1())
        name = "c%d.bench.test" % i
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(until)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .add_extension(aki, critical=False)
                .sign(ca_key, hashes.SHA256()))
        sub = os.path.join(out, "d%d" % ((i - 1) // per_dir))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "c%d.key" % i), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        with open(os.path.join(sub, "c%d.pem" % i), "wb") as f:
            f.write(leaf.public_bytes(serialization.Encoding.PEM) + ca_pem)
        os.chmod(os.path.join(sub, "c%d.pem" % i), 0o644)
    os.umask(old)


if __name__ == "__main__":
    main()
