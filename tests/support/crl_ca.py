#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A throwaway CA for CRL scenarios (python cryptography).

  crl_ca.py init DIR DP_URL NAME   CA (ca.pem, ca.key), a 90-day leaf for NAME carrying the CRL
                                   distribution point DP_URL (leaf.key, fullchain.pem: leaf + CA),
                                   its serial in lowercase hex (serial)
  crl_ca.py crl DIR OUT [--revoke] [--stale] [--forged]
                                   a CRL in DER at OUT: empty, or listing the leaf (--revoke);
                                   --stale: thisUpdate two days ago, nextUpdate yesterday;
                                   --forged: same issuer name, signed by another key
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ECA throwaway CRL test CA")])


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def pem_key(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def init(d, dp_url, name):
    os.makedirs(d, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(CA_NAME).issuer_name(CA_NAME)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now() - datetime.timedelta(hours=1))
          .not_valid_after(now() + datetime.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(CA_NAME).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now() - datetime.timedelta(hours=1))
            .not_valid_after(now() + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(dp_url)], relative_name=None,
                reasons=None, crl_issuer=None)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    write(os.path.join(d, "ca.key"), pem_key(ca_key), 0o600)
    write(os.path.join(d, "ca.pem"), ca.public_bytes(pem))
    write(os.path.join(d, "leaf.key"), pem_key(key), 0o600)
    write(os.path.join(d, "fullchain.pem"), leaf.public_bytes(pem) + ca.public_bytes(pem))
    write(os.path.join(d, "serial"), ("%x\n" % serial).encode())


def crl(d, out, revoke, stale, forged):
    with open(os.path.join(d, "ca.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    if forged:
        key = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(d, "serial")) as f:
        serial = int(f.read().strip(), 16)
    this = now() - (datetime.timedelta(days=2) if stale else datetime.timedelta(minutes=1))
    nxt = now() - datetime.timedelta(days=1) if stale else now() + datetime.timedelta(days=1)
    b = x509.CertificateRevocationListBuilder().issuer_name(CA_NAME)
    b = b.last_update(this).next_update(nxt)
    if revoke:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(now() - datetime.timedelta(seconds=30))
                                      .build())
    data = b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    write(out + ".tmp", data)
    os.replace(out + ".tmp", out)  # the server never serves half a CRL


def main(argv):
    if len(argv) == 5 and argv[1] == "init":
        init(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "crl":
        flags = set(argv[4:])
        if not flags <= {"--revoke", "--stale", "--forged"}:
            sys.exit(__doc__)
        crl(argv[2], argv[3], "--revoke" in flags, "--stale" in flags, "--forged" in flags)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
