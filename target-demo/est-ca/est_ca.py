#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Demo EST CA: an RFC 7030 server (with RFC 8951 clarifications) for ECA's demo and tests.

Real TLS and mTLS come from OpenSSL through Python's ssl module; certificates and CRLs are
made with python3-cryptography. All state lives in files under --dir, so `revoke` works
while `serve` runs. Listens on 127.0.0.1 only. Never logs tokens.
"""

import argparse
import base64
import datetime
import fcntl
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID, ExtendedKeyUsageOID, NameOID

MIN_VALIDITY = 60
MAX_BODY = 64 * 1024
REALM = "estdemo"
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: the handshake accepts an expired client certificate
# so that the application can answer with an HTTP status (and a reason) instead of a TLS alert.
X509_V_FLAG_NO_CHECK_TIME = 0x200000
MODES = {
    "normal": "issue normally",
    "approve-once": "first enroll per CSR key answers 202 + Retry-After: 2, the next issues",
    "leaf-only-with-crlf": "enroll/reenroll return the leaf only, base64 in 76-column CRLF lines",
    "csrattrs-empty": "csrattrs answers 204 No Content",
    "b64-lf": "base64 bodies in 64-column LF-terminated lines instead of one line",
    "no-cte": "omit Content-Transfer-Encoding (RFC 8951 section 3.2.1 erratum style)",
    "digest": "HTTP Digest (RFC 7616, MD5, qop=auth) instead of Basic, like libest -h",
    "digest-sha256": "HTTP Digest with algorithm=SHA-256 instead of Basic",
    "pop": "enroll needs challengePassword = base64(tls-unique) on TLS 1.2 (RFC 7030 section "
           "3.5, libest -t); /csrattrs asks for it",
    "csrattrs-libest": "csrattrs is libest's default (bare OIDs macAddress, emailAddress, "
                       "secp384r1, sha384, then a NUL); enroll insists on P-384 with SHA-384",
    "manual": "enroll/reenroll wait for an operator: 202 + Retry-After (--retry-after or "
              "DIR/retry-after, default 3600) with no body and no Content-Length, then the "
              "connection closes, as libest does; `approve --dir DIR` lets the kept CSR be "
              "issued when it is sent again",
    "no-auth": "enroll needs no HTTP authentication and no client certificate (a server "
               "behind other controls)",
}
# Modes a wrapper adds (tests/integration/est_ca_faults.py keeps the faults only tests need
# next to the tests): stage -> [(mode, fn)]. "cacerts" and "enroll" (after authentication and
# CSR checks): fn(handler) returns True once it has answered; "issued": fn(handler, cert)
# likewise; "challenge": fn(handler) returns the 401's headers, or None to keep them.
HOOKS = {"cacerts": [], "enroll": [], "issued": [], "challenge": []}


def add_mode(name, doc, stage, fn):
    """Register an extra mode for --mode and DIR/mode, run at `stage` when it is on."""
    MODES[name] = doc
    HOOKS[stage].append((name, fn))


FILES = {
    "root": "root-ca.pem", "root_key": "root-ca.key",
    "issuing": "issuing-ca.pem", "issuing_key": "issuing-ca.key", "chain": "ca-chain.pem",
    "server": "server.pem", "server_key": "server.key",
    "boot_ca": "bootstrap-ca.pem", "boot_ca_key": "bootstrap-ca.key",
    "boot": "bootstrap.pem", "boot_key": "bootstrap.key",
    "tokens": "tokens", "token": "bootstrap-token", "crl_pem": "crl.pem", "crl_der": "crl.der",
    "index": "index.tsv", "lock": "index.lock", "config": "config.json", "crlnumber": "crlnumber",
    "mode": "mode", "pid": "est_ca.pid", "ports": "serve.json", "issued": "issued",
    "stats": "stats.json", "pending": "pending", "approved": "approved",
    "retry_after": "retry-after",
}
_log_lock = threading.Lock()


def log(msg):
    """One line to stderr; callers never pass secrets."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _log_lock:
        sys.stderr.write(f"est-ca: {stamp} {msg}\n")
        sys.stderr.flush()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def not_before(cert):
    return _aware(getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before)


def not_after(cert):
    return _aware(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after)


# ---------------------------------------------------------------- files and keys
def path(d, name):
    return os.path.join(d, FILES[name])


def write_private_key(p, key):
    """Create the key file 0600 from the first byte (O_EXCL: never overwrite)."""
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_atomic(p, data, mode=0o644):
    tmp = f"{p}.tmp.{os.getpid()}.{threading.get_ident()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, p)


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(p):
    with open(p, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_key(p):
    with open(p, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def new_key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def signed_by(cert, issuer):
    """True when issuer's key made cert's signature (RFC 5280 path step, done by hand)."""
    if cert.issuer != issuer.subject:
        return False
    pub = issuer.public_key()
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def make_cert(subject, pub, issuer_name, issuer_key, start, end, exts, serial=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
         .public_key(pub).serial_number(serial or x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer_key.public_key()), critical=False))
    for ext, critical in exts:
        b = b.add_extension(ext, critical=critical)
    return b.sign(issuer_key, hashes.SHA256())


def key_usage(digital_signature=False, key_encipherment=False, cert_sign=False):
    return x509.KeyUsage(digital_signature, False, key_encipherment, False, False,
                         cert_sign, cert_sign, False, False)


def ca_exts(path_len):
    return [(x509.BasicConstraints(ca=True, path_length=path_len), True),
            (key_usage(cert_sign=True), True)]


def leaf_exts(key, eku):
    is_rsa = isinstance(key.public_key() if hasattr(key, "public_key") else key, rsa.RSAPublicKey)
    return [(x509.BasicConstraints(ca=False, path_length=None), True),
            (key_usage(digital_signature=True, key_encipherment=is_rsa), True),
            (x509.ExtendedKeyUsage([eku]), False)]


def name(cn, org="ECA Demo"):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


# ---------------------------------------------------------------- init
def cmd_init(a):
    d = a.dir
    os.makedirs(d, exist_ok=True)
    if os.path.exists(path(d, "root")):
        log(f"init: {path(d, 'root')} exists; refusing to overwrite an initialised CA")
        return 2
    if a.validity_seconds < MIN_VALIDITY:
        log(f"init: --validity-seconds must be >= {MIN_VALIDITY}")
        return 2
    now = utcnow()
    year = datetime.timedelta(days=365)
    root_key, issuing_key = new_key(a.key_type), new_key(a.key_type)
    root = make_cert(name("ECA Demo EST Root CA"), root_key.public_key(),
                     name("ECA Demo EST Root CA"), root_key, now, now + 10 * year, ca_exts(1))
    issuing = make_cert(name("ECA Demo EST Issuing CA"), issuing_key.public_key(), root.subject,
                        root_key, now, now + 5 * year, ca_exts(0))
    server_key = new_key(a.key_type)
    server = make_cert(name("localhost"), server_key.public_key(), issuing.subject, issuing_key,
                       now, now + year,
                       leaf_exts(server_key, ExtendedKeyUsageOID.SERVER_AUTH) +
                       [(x509.SubjectAlternativeName([
                           x509.DNSName("localhost"),
                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)])
    boot_ca_key, boot_key = new_key(a.key_type), new_key(a.key_type)
    mfr = "ECA Demo Manufacturer"
    boot_ca = make_cert(name("ECA Demo Manufacturer CA", mfr), boot_ca_key.public_key(),
                        name("ECA Demo Manufacturer CA", mfr), boot_ca_key, now, now + 10 * year,
                        ca_exts(0))
    boot = make_cert(name("bootstrap-device-0001", mfr), boot_key.public_key(), boot_ca.subject,
                     boot_ca_key, now, now + year,
                     leaf_exts(boot_key, ExtendedKeyUsageOID.CLIENT_AUTH))
    for key_name, key in (("root_key", root_key), ("issuing_key", issuing_key),
                          ("server_key", server_key), ("boot_ca_key", boot_ca_key),
                          ("boot_key", boot_key)):
        write_private_key(path(d, key_name), key)
    write_atomic(path(d, "root"), pem(root))
    write_atomic(path(d, "issuing"), pem(issuing))
    write_atomic(path(d, "chain"), pem(issuing) + pem(root))
    write_atomic(path(d, "server"), pem(server) + pem(issuing))
    write_atomic(path(d, "boot_ca"), pem(boot_ca))
    write_atomic(path(d, "boot"), pem(boot))
    token = os.urandom(16).hex()
    write_atomic(path(d, "tokens"), f"{a.user}:{token}\n".encode(), 0o600)
    write_atomic(path(d, "token"), f"{token}\n".encode(), 0o600)
    write_atomic(path(d, "index"), b"")
    os.makedirs(path(d, "issued"), exist_ok=True)
    conf = {"validity_seconds": a.validity_seconds, "user": a.user, "key_type": a.key_type,
            "crl_next_update_seconds": a.crl_next_update_seconds}
    write_atomic(path(d, "config"), (json.dumps(conf, indent=1) + "\n").encode())
    ca = CA(d)
    with ca.locked():
        ca.write_crl()
    log(f"init: CA ready in {d} (user {a.user}; token in {path(d, 'token')})")
    return 0


# ---------------------------------------------------------------- CA state
class CA:
    """The issuing CA and its file-backed index (serial, status, expiry, subject)."""

    def __init__(self, d):
        self.d = d
        with open(path(d, "config")) as f:
            self.conf = json.load(f)
        self.root = load_cert(path(d, "root"))
        self.issuing = load_cert(path(d, "issuing"))
        self.issuing_key = load_key(path(d, "issuing_key"))
        self.boot_ca = load_cert(path(d, "boot_ca"))
        self._thread_lock = threading.Lock()

    class _Lock:
        def __init__(self, ca):
            self.ca = ca

        def __enter__(self):
            self.ca._thread_lock.acquire()
            self.fd = os.open(path(self.ca.d, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_EX)

        def __exit__(self, *exc):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.ca._thread_lock.release()

    def locked(self):
        """Exclusive lock across threads and processes (serve and revoke) on the index."""
        return CA._Lock(self)

    def read_index(self):
        """serial (int) -> dict(status 'V'|'R', not_after, revoked_at, reason, subject)."""
        out = {}
        try:
            with open(path(self.d, "index")) as f:
                for line in f:
                    p = line.rstrip("\n").split("\t")
                    if len(p) < 6:
                        continue
                    out[int(p[0], 16)] = {"status": p[1], "not_after": int(p[2]),
                                          "revoked_at": None if p[3] == "-" else int(p[3]),
                                          "reason": p[4], "subject": p[5]}
        except FileNotFoundError:
            pass
        return out

    def write_index(self, idx):
        lines = [f"{s:x}\t{r['status']}\t{r['not_after']}\t"
                 f"{'-' if r['revoked_at'] is None else r['revoked_at']}\t{r['reason']}\t"
                 f"{r['subject']}\n" for s, r in sorted(idx.items())]
        write_atomic(path(self.d, "index"), "".join(lines).encode())

    def issue(self, csr, validity, crl_url, san=None):
        """Sign a clientAuth leaf for csr's key and subject; SANs from san or the CSR."""
        now = utcnow()
        end = min(now + datetime.timedelta(seconds=validity), not_after(self.issuing))
        exts = leaf_exts(csr.public_key(), ExtendedKeyUsageOID.CLIENT_AUTH)
        if san is None:
            san = csr_san(csr)
        if san is not None:
            exts.append((san, False))
        if crl_url:
            exts.append((x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), False))
        cert = make_cert(csr.subject, csr.public_key(), self.issuing.subject, self.issuing_key,
                         now, end, exts)
        with self.locked():
            idx = self.read_index()
            idx[cert.serial_number] = {"status": "V", "not_after": int(end.timestamp()),
                                       "revoked_at": None, "reason": "-",
                                       "subject": cert.subject.rfc4514_string().replace("\t", " ")}
            self.write_index(idx)
            write_atomic(os.path.join(path(self.d, "issued"), f"{cert.serial_number:x}.pem"),
                         pem(cert))
        return cert

    def write_crl(self):
        """Regenerate crl.der/crl.pem from the index (RFC 5280 section 5); hold the lock."""
        now = utcnow()
        try:
            with open(path(self.d, "crlnumber")) as f:
                number = int(f.read().strip() or "0") + 1
        except FileNotFoundError:
            number = 1
        nxt = now + datetime.timedelta(seconds=int(self.conf.get("crl_next_update_seconds", 300)))
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.issuing.subject)
             .last_update(now).next_update(nxt)
             .add_extension(x509.CRLNumber(number), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 self.issuing_key.public_key()), critical=False))
        for serial, r in sorted(self.read_index().items()):
            if r["status"] != "R":
                continue
            rb = (x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(
                datetime.datetime.fromtimestamp(r["revoked_at"], datetime.timezone.utc)))
            if r["reason"] not in ("-", "unspecified"):
                rb = rb.add_extension(x509.CRLReason(x509.ReasonFlags(r["reason"])),
                                      critical=False)
            b = b.add_revoked_certificate(rb.build())
        crl = b.sign(self.issuing_key, hashes.SHA256())
        write_atomic(path(self.d, "crl_der"), crl.public_bytes(serialization.Encoding.DER))
        write_atomic(path(self.d, "crl_pem"), crl.public_bytes(serialization.Encoding.PEM))
        write_atomic(path(self.d, "crlnumber"), f"{number}\n".encode())
        return number

    def fresh_crl(self, fmt):
        """CRL bytes; regenerated once half of its nextUpdate window has passed."""
        with self.locked():
            with open(path(self.d, "crl_der"), "rb") as f:
                crl = x509.load_der_x509_crl(f.read())
            last = _aware(getattr(crl, "last_update_utc", None) or crl.last_update)
            nxt = _aware(getattr(crl, "next_update_utc", None) or crl.next_update)
            if utcnow() >= last + (nxt - last) / 2:
                self.write_crl()
            with open(path(self.d, "crl_der" if fmt == "der" else "crl_pem"), "rb") as f:
                return f.read()

    def revoke(self, serial, reason):
        """Mark serial revoked and regenerate the CRL. Returns (ok, message)."""
        with self.locked():
            idx = self.read_index()
            r = idx.get(serial)
            if r is None:
                return False, f"serial {serial:x} was not issued by this CA"
            if r["status"] == "R":
                return True, f"serial {serial:x} already revoked"
            r.update(status="R", revoked_at=int(time.time()), reason=reason)
            self.write_index(idx)
            number = self.write_crl()
        return True, f"revoked serial {serial:x} ({r['subject']}); CRL number {number}"


def csr_san(csr):
    try:
        return csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def cert_san(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


# ---------------------------------------------------------------- EST encoding
def der_tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    lb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(lb)]) + lb + body


def der_oid(dotted):
    arcs = [int(x) for x in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return der_tlv(0x06, bytes(body))


# RFC 7030 section 4.5.2: CsrAttrs ::= SEQUENCE OF AttrOrOID. We ask for ecdsa-with-SHA256
# and an id-ecPublicKey on secp256r1 (the same shape as the RFC's example).
CSRATTRS_DER = der_tlv(0x30, der_oid("1.2.840.10045.4.3.2") + der_tlv(
    0x30, der_oid("1.2.840.10045.2.1") + der_tlv(0x31, der_oid("1.2.840.10045.3.1.7"))))


# libest's default /csrattrs (estserver without -c): bare OIDs macAddress, emailAddress,
# secp384r1 and sha384, base64, followed by a NUL byte as libest sends it.
CSRATTRS_LIBEST_DER = der_tlv(0x30, der_oid("1.3.6.1.1.1.1.22") + der_oid("1.2.840.113549.1.9.1")
                              + der_oid("1.3.132.0.34") + der_oid("2.16.840.1.101.3.4.2.2"))
# PoP mode: the default request plus challengePassword (RFC 7030 section 4.5.2's example has it).
CSRATTRS_POP_DER = der_tlv(0x30, der_oid("1.2.840.113549.1.9.7") + CSRATTRS_DER[2:])


def digest_params(header):
    """The auth-params of an Authorization: Digest header (RFC 7616 section 3.4)."""
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))', header):
        out[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def digest_hash(algorithm):
    return {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm]


def digest_response(algorithm, user, token, method, p):
    """RFC 7616 section 3.4.1 with qop=auth: the response the client should have sent."""
    h = digest_hash(algorithm)

    def hx(text):
        return h(text.encode()).hexdigest()
    ha1 = hx(f"{user}:{REALM}:{token}")
    ha2 = hx(f"{method}:{p.get('uri', '')}")
    return hx(f"{ha1}:{p.get('nonce', '')}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")


def b64_lines(data, width=0, eol=""):
    """base64 in one line (width 0: RFC 8951 points at RFC 4648 section 4, which adds no
    line feeds; strongSwan's pki also rejects them) or in lines of width ending in eol."""
    s = base64.b64encode(data).decode()
    if not width:
        return s.encode()
    return "".join(s[i:i + width] + eol for i in range(0, len(s), width)).encode()


def certs_only(certs):
    """Degenerate CMS SignedData (certs-only, RFC 7030 section 4.1.3 / RFC 5751)."""
    return pkcs7.serialize_certificates(certs, serialization.Encoding.DER)


def decode_b64_body(body):
    """RFC 7030 bodies are base64 DER; accept any line breaks (LF or CRLF) or none."""
    text = re.sub(rb"[\r\n\t ]", b"", body)
    if not text or text.startswith(b"-----"):
        raise ValueError("body is not base64 (PEM armour or empty)")
    return base64.b64decode(text, validate=True)


# ---------------------------------------------------------------- HTTP servers
class Service:
    """What the handlers share: the CA, options, and the approve-once memory."""

    def __init__(self, a, ca):
        self.a, self.ca = a, ca
        self.validity = a.validity_seconds or int(ca.conf["validity_seconds"])
        self.crl_url = a.crl_url
        self.labels = set(a.labels.split(",")) if a.labels else None
        self.pending = set()
        self.pending_lock = threading.Lock()
        self.modes = parse_modes(a.mode)
        self.nonce_key = os.urandom(32)
        self.stats = {"tls_handshakes": 0, "TLSv1.2": 0, "TLSv1.3": 0}
        self.stats_lock = threading.Lock()

    def count_handshake(self, version):
        """Number this TLS connection and keep the counts in DIR/stats.json (tests read it)."""
        with self.stats_lock:
            self.stats["tls_handshakes"] += 1
            self.stats[version] = self.stats.get(version, 0) + 1
            n = self.stats["tls_handshakes"]
            write_atomic(path(self.ca.d, "stats"), (json.dumps(self.stats) + "\n").encode())
        return n

    def retry_after(self):
        """DIR/retry-after (tests change it while serving), else --retry-after."""
        try:
            with open(path(self.ca.d, "retry_after")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return self.a.retry_after

    def manual_approved(self, csr):
        """Manual mode: True when an operator approved this very CSR (`approve`); the
        approval is used up. Otherwise the CSR is kept in DIR/pending for the operator."""
        der = csr.public_bytes(serialization.Encoding.DER)
        rid = hashlib.sha256(der).hexdigest()[:16]
        with self.pending_lock:
            approved = os.path.join(path(self.ca.d, "approved"), f"{rid}.csr")
            if os.path.exists(approved):
                with open(approved, "rb") as f:
                    same = x509.load_pem_x509_csr(f.read()).public_bytes(
                        serialization.Encoding.DER) == der
                os.unlink(approved)
                log(f"manual: request {rid} approved; issuing the kept CSR")
                return same
            os.makedirs(path(self.ca.d, "pending"), exist_ok=True)
            kept = os.path.join(path(self.ca.d, "pending"), f"{rid}.csr")
            if not os.path.exists(kept):
                write_atomic(kept, csr.public_bytes(serialization.Encoding.PEM), 0o600)
                log(f"manual: request {rid} kept for approval ({csr.subject.rfc4514_string()})")
        return False

    def nonce(self):
        """A Digest nonce that proves its own age: time and an HMAC of it (RFC 7616 3.3)."""
        t = str(int(time.time()))
        mac = hmac.new(self.nonce_key, t.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.b64encode(f"{t}:{mac}".encode()).decode()

    def nonce_ok(self, nonce, max_age=300):
        try:
            t, mac = base64.b64decode(nonce, validate=True).decode().split(":", 1)
            age = time.time() - int(t)
        except (ValueError, UnicodeDecodeError):
            return False
        want = hmac.new(self.nonce_key, t.encode(), hashlib.sha256).hexdigest()[:32]
        return hmac.compare_digest(mac, want) and 0 <= age <= max_age

    def token_of(self, user):
        """The token of user from the tokens file (Digest needs it in the clear), or None."""
        try:
            with open(path(self.ca.d, "tokens")) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        for line in lines:
            if line and not line.startswith("#") and ":" in line:
                u, t = line.split(":", 1)
                if hmac.compare_digest(u.encode(), user.encode()):
                    return t.strip()
        return None

    def current_modes(self):
        """--mode, unless DIR/mode holds a comma list (switch modes without a restart)."""
        try:
            with open(path(self.ca.d, "mode")) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return self.modes
        if not text:
            return self.modes
        modes = {m.strip() for m in text.split(",") if m.strip()}
        unknown = modes - set(MODES)
        if unknown:
            log(f"warning: ignoring unknown modes in {path(self.ca.d, 'mode')}: {sorted(unknown)}")
        return modes & set(MODES)

    def tokens_ok(self, user, token):
        try:
            with open(path(self.ca.d, "tokens")) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return False
        ok = False
        for line in lines:
            if not line or line.startswith("#") or ":" not in line:
                continue
            u, t = line.split(":", 1)
            # compare every entry in constant time: no early exit on a match
            ok |= hmac.compare_digest(u.encode(), user.encode()) and \
                hmac.compare_digest(t.strip().encode(), token.encode())
        return ok


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "eca-demo-est-ca/1"
    timeout = 30

    def log_message(self, fmt, *args):
        log(f"{self.client_address[0]} " + (fmt % args))

    def reply(self, code, body=b"", ctype=None, headers=None, close=False):
        """Whole response in one write: one TLS record for small answers (strongSwan's pki
        reads the header and the start of the body in one go)."""
        self._code = code
        lines = [f"HTTP/1.1 {code} {self.responses.get(code, ('',))[0]}",
                 f"Server: {self.server_version}", f"Date: {self.date_time_string()}"]
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        self.wfile.flush()

    def text(self, code, msg, headers=None, close=False):
        self._note.append(f'why="{msg}"')
        self.reply(code, (msg + "\n").encode(), "text/plain; charset=utf-8", headers, close)

    def dispatch(self, method):
        self._code, self._note = 0, []
        try:
            self.route(method)
        except (BrokenPipeError, ConnectionResetError, TimeoutError) as e:
            self._note.append(f'error="{e}"')
            self.close_connection = True
        except Exception as e:  # a bug here must not kill the server: answer 500, log it
            self._note.append(f'error="{type(e).__name__}: {e}"')
            if not self._code:
                self.text(500, "internal error", close=True)
        finally:
            conn = getattr(self.connection, "eca_conn", None)
            log(f'{self.client_address[0]} "{method} {self.path}" {self._code} '
                + " ".join(self._note + ([f"conn={conn}"] if conn else [])))


class EstHandler(Handler):
    svc = None  # set by serve

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def route(self, method):
        parts = urllib.parse.urlsplit(self.path).path.split("/")
        # RFC 7030 section 3.2.2: /.well-known/est/[label/]operation
        if parts[:3] != ["", ".well-known", "est"] or len(parts) not in (4, 5):
            return self.text(404, "not an EST path")
        label, op = (None, parts[3]) if len(parts) == 4 else (parts[3], parts[4])
        if label is not None and (not re.fullmatch(r"[A-Za-z0-9_.-]+", label) or
                                  (self.svc.labels and label not in self.svc.labels)):
            return self.text(404, f"unknown EST label {label!r}")
        self._modes = self.svc.current_modes()
        want = {"cacerts": "GET", "csrattrs": "GET", "simpleenroll": "POST",
                "simplereenroll": "POST"}
        if op in ("serverkeygen", "fullcmc"):
            return self.text(501, f"{op} is not implemented by this demo CA")
        if op not in want:
            return self.text(404, f"unknown EST operation {op!r}")
        if method != want[op]:
            return self.text(405, f"{op} takes {want[op]}", {"Allow": want[op]})
        if op == "cacerts":
            return self.cacerts()
        if op == "csrattrs":
            return self.csrattrs()
        return self.enroll(op == "simplereenroll")

    def b64_reply(self, code, der, ctype, width=0, eol=""):
        if not width and "b64-lf" in self._modes:
            width, eol = 64, "\n"
        headers = {} if "no-cte" in self._modes else {"Content-Transfer-Encoding": "base64"}
        self.reply(code, b64_lines(der, width, eol), ctype, headers)

    def hook(self, stage, *args):
        """Run the wrapper's hooks of the modes that are on; the first answer wins."""
        for mode, fn in HOOKS[stage]:
            if mode in self._modes:
                r = fn(self, *args)
                if r is not None and r is not False:  # {} is an answer: no challenge header
                    return r
        return None

    def cacerts(self):
        if self.hook("cacerts"):
            return None
        # RFC 7030 section 4.1.3: certs-only CMS with the current root and the issuing CA
        self.b64_reply(200, certs_only([self.svc.ca.root, self.svc.ca.issuing]),
                       "application/pkcs7-mime")

    def csrattrs(self):
        if "csrattrs-empty" in self._modes:
            return self.reply(204)
        if "csrattrs-libest" in self._modes:
            return self.reply(200, b64_lines(CSRATTRS_LIBEST_DER) + b"\0", "application/csrattrs",
                              {"Content-Transfer-Encoding": "base64"})
        der = CSRATTRS_POP_DER if "pop" in self._modes else CSRATTRS_DER
        self.b64_reply(200, der, "application/csrattrs")

    def read_body(self):
        """The POST body, or None after answering 411/413/400 (Content-Length required)."""
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length") is None:
            self.text(411, "Content-Length required (chunked bodies are not accepted)",
                      close=True)
            return None
        try:
            n = int(self.headers["Content-Length"])
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.text(413 if n > MAX_BODY else 400, "bad Content-Length", close=True)
            return None
        return self.rfile.read(n)

    def peer(self):
        """(kind, cert, problem): kind 'ours', 'bootstrap' or None for the TLS client cert."""
        der = self.connection.getpeercert(binary_form=True)
        if not der:
            return None, None, "no client certificate"
        cert = x509.load_der_x509_certificate(der)
        ca, now = self.svc.ca, utcnow()
        if not (not_before(cert) <= now <= not_after(cert)):
            return None, cert, "client certificate outside its validity period"
        if signed_by(cert, ca.issuing):
            r = ca.read_index().get(cert.serial_number)
            if r is None:
                return None, cert, "client certificate not in this CA's index"
            if r["status"] == "R":
                return None, cert, "client certificate is revoked"
            return "ours", cert, None
        if signed_by(cert, ca.boot_ca):
            return "bootstrap", cert, None
        return None, cert, "client certificate from an unaccepted issuer"

    def digest_algorithm(self):
        """The Digest algorithm the modes ask for, or None for Basic."""
        if "digest-sha256" in self._modes:
            return "SHA-256"
        return "MD5" if "digest" in self._modes else None

    def http_user(self, method):
        """The user the Authorization header authenticates in the scheme of the modes."""
        alg = self.digest_algorithm()
        return self.digest_user(alg, method) if alg else self.basic_user()

    def digest_user(self, alg, method):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("digest "):
            return None
        p = digest_params(auth[7:])
        user = p.get("username", "")
        token = self.svc.token_of(user)
        if (token is None or p.get("realm") != REALM or p.get("qop") != "auth" or
                p.get("algorithm", "MD5").upper() != alg or p.get("uri") != self.path or
                not self.svc.nonce_ok(p.get("nonce", ""))):
            return None
        want = digest_response(alg, user, token, method, p)
        return user if hmac.compare_digest(want, p.get("response", "").lower()) else None

    def basic_user(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, token = base64.b64decode(auth[6:].strip(), validate=True).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return None
        return user if self.svc.tokens_ok(user, token) else None

    def unauthorized(self, msg):
        # RFC 7030 section 3.2.3 / RFC 7617: a 401 carries the Basic challenge
        alg = self.digest_algorithm()
        h = self.hook("challenge")
        if h is not None:
            pass
        elif alg:
            # RFC 7616 section 3.3; libest -h sends qop="auth" and a realm, MD5 implied
            h = {"WWW-Authenticate": f'Digest realm="{REALM}", qop="auth", algorithm={alg}, '
                                    f'nonce="{self.svc.nonce()}", opaque="ecademo"'}
        else:
            h = {"WWW-Authenticate": f'Basic realm="{REALM}"'}
        self.text(401, msg, h)

    def pending_reply(self):
        """RFC 7030 section 4.2.3 as libest sends it: 202, Retry-After, no body and no
        Content-Length, then the connection is closed (the body ends there)."""
        self._code = 202
        self._note.append(f"pending retry_after={self.svc.retry_after()}")
        self.wfile.write((f"HTTP/1.1 202 Accepted\r\nServer: {self.server_version}\r\n"
                          f"Date: {self.date_time_string()}\r\n"
                          f"Retry-After: {self.svc.retry_after()}\r\n\r\n").encode())
        self.wfile.flush()
        self.close_connection = True

    def pop_problem(self, csr):
        """RFC 7030 section 3.5: challengePassword must be base64(tls-unique) of this
        connection. Checked whenever the CSR has one (as libest does), required in pop mode."""
        try:
            got = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
        except x509.AttributeNotFound:
            return "Proof of Possession required" if "pop" in self._modes else None
        got = got.decode(errors="replace") if isinstance(got, bytes) else str(got)
        if self.connection.version() != "TLSv1.2":
            return f"Proof of Possession needs TLS 1.2 (no tls-unique in {self.connection.version()})"
        want = base64.b64encode(self.connection.get_channel_binding("tls-unique")).decode()
        self._note.append("pop=" + ("ok" if hmac.compare_digest(got, want) else "mismatch"))
        return None if hmac.compare_digest(got, want) else "Proof of Possession Mismatch"

    def enroll(self, reenroll):
        body = self.read_body()
        if body is None:
            return
        kind, pcert, problem = self.peer()
        if kind:
            self._note.append(f"auth=cert:{kind}:{pcert.serial_number:x}")
        if reenroll and kind != "ours":
            # RFC 7030 section 4.2.2: re-enrollment is authenticated by the certificate
            # being renewed, presented in the TLS handshake
            return self.text(403, f"simplereenroll needs a valid certificate from this CA "
                                  f"over mTLS ({problem or 'bootstrap certificate'})")
        if not kind and "no-auth" in self._modes:
            self._note.append("auth=none")
        elif not kind:
            user = self.http_user("POST")
            if user is None:
                if self.headers.get("Authorization"):
                    scheme = self.headers["Authorization"].split(" ", 1)[0].lower()
                    self._note.append(f"auth={scheme}:rejected")
                return self.unauthorized("credentials required or rejected" +
                                         (f" ({problem})" if pcert is not None else ""))
            self._note.append(f"auth={'digest' if self.digest_algorithm() else 'basic'}:{user}")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/pkcs10":
            return self.text(415, f"Content-Type must be application/pkcs10, got {ctype!r}")
        try:
            csr = x509.load_der_x509_csr(decode_b64_body(body))
        except ValueError as e:
            return self.text(400, f"body is not a base64 DER PKCS#10 request: {e}")
        if not csr.is_signature_valid:
            return self.text(400, "CSR signature does not verify")
        key = csr.public_key()
        kdesc = (f"ec-{key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey)
                 else f"rsa-{key.key_size}")
        self._note.append(f"csr_key={kdesc} csr_sig={csr.signature_hash_algorithm.name}")
        problem = self.pop_problem(csr)
        if problem:
            return self.text(401, problem)
        if "csrattrs-libest" in self._modes and (kdesc != "ec-secp384r1" or
                                                  csr.signature_hash_algorithm.name != "sha384"):
            return self.text(400, f"CSR must be P-384 signed with SHA-384 as /csrattrs asks "
                                  f"(got {kdesc}, {csr.signature_hash_algorithm.name})")
        san = None
        if reenroll:
            if csr.subject != pcert.subject:
                return self.text(400, "CSR subject differs from the certificate being renewed")
            san = cert_san(pcert)
            if csr_san(csr) is not None and csr_san(csr) != san:
                return self.text(400, "CSR subjectAltName differs from the certificate "
                                      "being renewed")
        elif len(csr.subject) == 0 and csr_san(csr) is None:
            return self.text(400, "CSR has neither subject nor subjectAltName")
        self._note.append(f'subject="{csr.subject.rfc4514_string()}"')
        if self.hook("enroll"):
            return None
        if "manual" in self._modes and not self.svc.manual_approved(csr):
            return self.pending_reply()
        if "approve-once" in self._modes:
            spki = csr.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
            key_id = hashlib.sha256(spki).hexdigest()
            with self.svc.pending_lock:
                first = key_id not in self.svc.pending
                self.svc.pending.add(key_id)
            if first:
                # RFC 7030 section 4.2.3: accepted, pending manual approval
                return self.text(202, "request pending approval; retry", {"Retry-After": "2"})
        cert = self.svc.ca.issue(csr, self.svc.validity, self.svc.crl_url, san)
        self._note.append(f"serial={cert.serial_number:x} not_after={not_after(cert):%H:%M:%S}")
        ctype = "application/pkcs7-mime; smime-type=certs-only"
        if self.hook("issued", cert):
            return None
        if "leaf-only-with-crlf" in self._modes:
            return self.b64_reply(200, certs_only([cert]), ctype, 76, "\r\n")
        self.b64_reply(200, certs_only([cert, self.svc.ca.issuing]), ctype)


class CrlHandler(Handler):
    svc = None

    def do_GET(self):
        self.dispatch("GET")

    def route(self, method):
        p = urllib.parse.urlsplit(self.path).path
        if p not in ("/crl.der", "/crl.pem"):
            return self.text(404, "try /crl.der or /crl.pem")
        fmt = p[-3:]
        # RFC 5280 section 4.2.1.13 / RFC 2585: DER CRL over HTTP is application/pkix-crl
        self.reply(200, self.svc.ca.fresh_crl(fmt),
                   "application/pkix-crl" if fmt == "der" else "application/x-pem-file")


class TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ssl_ctx = None

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # Handshake here, in the connection's own thread, so a slow client blocks no one
        request.settimeout(EstHandler.timeout)
        # Without TCP_NODELAY the first response on a connection waits ~40 ms: Nagle holds
        # it behind the TLS 1.3 session tickets until the client's delayed ACK arrives.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_ctx is None:
            return self.RequestHandlerClass(request, client_address, self)
        try:
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"{client_address[0]} TLS handshake failed: {e}")
            return None
        conn.eca_conn = self.RequestHandlerClass.svc.count_handshake(conn.version())
        log(f"{client_address[0]} TLS handshake conn={conn.eca_conn} {conn.version()} "
            f"client_cert={'yes' if conn.getpeercert(binary_form=True) else 'no'}")
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ssl.SSLError, OSError) as e:
            # e.g. a client that ends the connection without a clean TLS shutdown
            log(f"{client_address[0]} connection ended: {e}")
        finally:
            conn.close()
        return None

    def handle_error(self, request, client_address):
        log(f"{client_address[0]} request failed: {sys.exc_info()[1]!r}")


def listen_addr(text):
    host, _, port = text.rpartition(":")
    if host != "127.0.0.1":
        raise argparse.ArgumentTypeError("listen on 127.0.0.1 only (HOST must be 127.0.0.1)")
    return host, int(port)


def parse_modes(text):
    modes = {m.strip() for m in text.split(",") if m.strip()}
    unknown = modes - set(MODES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown mode(s) {sorted(unknown)}; "
                                         f"known: {', '.join(MODES)}")
    return modes


def tls_context(d):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(path(d, "server"), path(d, "server_key"))
    for name_ in ("root", "issuing", "boot_ca"):
        ctx.load_verify_locations(cafile=path(d, name_))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.verify_flags = ssl.VerifyFlags(ctx.verify_flags | X509_V_FLAG_NO_CHECK_TIME)
    return ctx


def cmd_serve(a):
    d = a.dir
    ca = CA(d)
    svc = Service(a, ca)
    if svc.validity < MIN_VALIDITY:
        log(f"serve: validity must be >= {MIN_VALIDITY} seconds")
        return 2
    EstHandler.svc = CrlHandler.svc = svc
    est = TlsServer(a.listen, EstHandler)
    est.ssl_ctx = tls_context(d)
    servers = [est]
    ports = {"est_port": est.server_port}
    if a.crl_listen:
        crl = TlsServer(a.crl_listen, CrlHandler)
        servers.append(crl)
        ports["crl_port"] = crl.server_port
        if not svc.crl_url:
            svc.crl_url = f"http://127.0.0.1:{crl.server_port}/crl.der"
    ports["crl_url"] = svc.crl_url
    pid_file = a.pid_file or path(d, "pid")
    write_atomic(path(d, "ports"), (json.dumps(ports) + "\n").encode())
    write_atomic(pid_file, f"{os.getpid()}\n".encode())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    log(f"serving https://127.0.0.1:{est.server_port}/.well-known/est/ "
        f"crl={svc.crl_url or 'none'} validity={svc.validity}s "
        f"modes={','.join(sorted(svc.modes)) or 'normal'} pid={os.getpid()}")
    while not stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    try:
        os.unlink(pid_file)
    except FileNotFoundError:
        pass
    log("stopped")
    return 0


def cmd_revoke(a):
    ca = CA(a.dir)
    if a.cert:
        serial = load_cert(a.cert).serial_number
    else:
        try:
            serial = int(a.serial.replace(":", "").lower().removeprefix("0x"), 16)
        except ValueError:
            log(f"revoke: --serial {a.serial!r} is not hexadecimal")
            return 2
    ok, msg = ca.revoke(serial, a.reason)
    log(f"revoke: {msg}")
    return 0 if ok else 1


def cmd_list(a):
    ca = CA(a.dir)
    now = int(time.time())
    for serial, r in sorted(ca.read_index().items(), key=lambda kv: kv[1]["not_after"]):
        state = "revoked" if r["status"] == "R" else ("expired" if r["not_after"] < now
                                                      else "valid")
        print(f"{serial:x}\t{state}\t{r['not_after']}\t{r['subject']}")
    return 0


def cmd_approve(a):
    """Approve the kept requests (all, or --id): the next time each is sent, it is issued."""
    src, dst = path(a.dir, "pending"), path(a.dir, "approved")
    os.makedirs(dst, exist_ok=True)
    try:
        names = sorted(n for n in os.listdir(src) if n.endswith(".csr"))
    except FileNotFoundError:
        names = []
    if a.id:
        names = [n for n in names if n == f"{a.id}.csr"]
    if not names:
        log("approve: no pending request" + (f" {a.id}" if a.id else ""))
        return 1
    for n in names:
        os.replace(os.path.join(src, n), os.path.join(dst, n))
        log(f"approve: request {n[:-4]} approved")
    return 0


def cmd_pending(a):
    """List the requests waiting for approval: id and subject."""
    try:
        names = sorted(n for n in os.listdir(path(a.dir, "pending")) if n.endswith(".csr"))
    except FileNotFoundError:
        names = []
    for n in names:
        with open(os.path.join(path(a.dir, "pending"), n), "rb") as f:
            print(f"{n[:-4]}\t{x509.load_pem_x509_csr(f.read()).subject.rfc4514_string()}")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="est_ca.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init", help="create the CAs, server and bootstrap certs, tokens, CRL")
    i.add_argument("--dir", required=True)
    i.add_argument("--validity-seconds", type=int, default=600,
                   help="default lifetime of issued certificates (>= 60)")
    i.add_argument("--key-type", choices=("ec", "rsa"), default="ec",
                   help="ec = P-256 (default), rsa = RSA-2048, for all keys made here")
    i.add_argument("--user", default="estuser", help="HTTP Basic user name in the tokens file")
    i.add_argument("--crl-next-update-seconds", type=int, default=300)
    s = sub.add_parser("serve", help="run the EST server (and the CRL listener)")
    s.add_argument("--dir", required=True)
    s.add_argument("--listen", required=True, type=listen_addr, help="127.0.0.1:PORT")
    s.add_argument("--crl-listen", type=listen_addr, help="127.0.0.1:PORT for plain-HTTP CRL")
    s.add_argument("--crl-url", help="CRL distribution point to put in certificates "
                                     "(default: http://127.0.0.1:<crl port>/crl.der)")
    s.add_argument("--validity-seconds", type=int, default=0, help="overrides init's value")
    s.add_argument("--mode", default="normal",
                   help="comma list: " + "; ".join(f"{k}: {v}" for k, v in MODES.items()))
    s.add_argument("--labels", help="comma list of accepted EST labels (default: any)")
    s.add_argument("--pid-file", help=f"default DIR/{FILES['pid']}")
    s.add_argument("--retry-after", type=int, default=3600,
                   help="manual mode: the 202's Retry-After in seconds (DIR/retry-after wins)")
    r = sub.add_parser("revoke", help="revoke a certificate and regenerate the CRL")
    r.add_argument("--dir", required=True)
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--serial", help="hex serial, with or without colons or 0x")
    g.add_argument("--cert", help="PEM certificate whose serial to revoke")
    r.add_argument("--reason", default="unspecified",
                   choices=[f.value for f in x509.ReasonFlags
                            if f.value not in ("removeFromCRL",)])
    li = sub.add_parser("list", help="print the index: serial, state, notAfter, subject")
    li.add_argument("--dir", required=True)
    ap = sub.add_parser("approve", help="manual mode: approve kept requests (all, or --id)")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--id", help="one request id (see `pending`)")
    pe = sub.add_parser("pending", help="manual mode: list the requests waiting for approval")
    pe.add_argument("--dir", required=True)
    a = p.parse_args(argv)
    if a.cmd == "serve":
        try:
            parse_modes(a.mode)
        except argparse.ArgumentTypeError as e:
            p.error(str(e))
    return {"init": cmd_init, "serve": cmd_serve, "revoke": cmd_revoke, "list": cmd_list,
            "approve": cmd_approve, "pending": cmd_pending}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
