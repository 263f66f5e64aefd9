#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of the demo EST CA (target-demo/est-ca/est_ca.py) on its own, with a plain Python
client: what every EST scenario relies on it to do. Run by est_ca_selftest.sh."""

import base64
import hashlib
import http.client
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
EST_CA = os.path.join(HERE, "..", "..", "target-demo", "est-ca", "est_ca.py")
FAULTS = os.path.join(HERE, "est_ca_faults.py")
sys.path.insert(0, os.path.dirname(EST_CA))
sys.dont_write_bytecode = True
import est_ca  # noqa: E402  (the module under test: its helpers are tested directly too)

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def run_ca(*args, check=True, script=EST_CA):
    return subprocess.run([sys.executable, "-B", script, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=check)


class DemoEstCa(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="est-ca-selftest-")
        cls.d = os.path.join(cls.tmp.name, "ca")
        run_ca("init", "--dir", cls.d, "--validity-seconds", "120")
        cls.log = open(os.path.join(cls.tmp.name, "serve.log"), "w+")
        # served through the test wrapper, so its fault modes can be tested as well
        cls.proc = subprocess.Popen([sys.executable, "-B", FAULTS, "serve", "--dir", cls.d,
                                     "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                                    stdout=cls.log, stderr=cls.log)
        ports = os.path.join(cls.d, "serve.json")
        for _ in range(100):
            if os.path.exists(ports) and os.path.getsize(ports) > 0:
                break
            time.sleep(0.1)
        with open(ports) as f:
            cls.port = json.load(f)["est_port"]
        with open(os.path.join(cls.d, "tokens")) as f:
            cls.user, cls.token = f.read().strip().split(":", 1)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        try:
            cls.proc.wait(10)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
        cls.log.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.mode("")
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()

    # ---- helpers
    def mode(self, modes):
        with open(os.path.join(self.d, "mode"), "w") as f:
            f.write(modes + "\n")

    def conn(self, version=None, cert=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.d, "root-ca.pem"))
        if version:
            ctx.minimum_version = ctx.maximum_version = version
        if cert:
            ctx.load_cert_chain(*cert)
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=20)
        self.conns.append(c)
        return c

    def request(self, c, method, op, body=None, headers=None):
        c.request(method, "/.well-known/est/" + op, body=body, headers=headers or {})
        r = c.getresponse()
        return r, r.read()

    def csr(self, curve=ec.SECP256R1(), digest=hashes.SHA256(), challenge=None):
        key = ec.generate_private_key(curve)
        b = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "selftest")]))
        if challenge is not None:
            b = b.add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
        der = b.sign(key, digest).public_bytes(serialization.Encoding.DER)
        return key, base64.b64encode(der)

    def basic(self, token=None):
        raw = f"{self.user}:{token or self.token}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode(),
                "Content-Type": "application/pkcs10"}

    def handshakes(self):
        with open(os.path.join(self.d, "stats.json")) as f:
            return json.load(f)["tls_handshakes"]

    def issued(self, body):
        certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(body))
        return next(c for c in certs if c.subject.rfc4514_string() == "CN=selftest")

    # ---- tests
    def test_init_keys_are_private(self):
        for name in ("root-ca.key", "issuing-ca.key", "server.key", "bootstrap.key", "tokens"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.d, name)).st_mode)
            self.assertEqual(mode, 0o600, name)
        self.assertNotEqual(run_ca("init", "--dir", self.d, check=False).returncode, 0,
                            "init over an existing CA must refuse")

    def test_cacerts_is_certs_only_root_and_issuing(self):
        r, body = self.request(self.conn(), "GET", "cacerts")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/pkcs7-mime")
        certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(body))
        self.assertEqual([c.subject.rfc4514_string() for c in certs],
                         ["CN=ECA Demo EST Root CA,O=ECA Demo",
                          "CN=ECA Demo EST Issuing CA,O=ECA Demo"])

    def test_basic_enroll_and_challenge(self):
        c = self.conn()
        _, b64 = self.csr()
        r, _ = self.request(c, "POST", "simpleenroll", b64, self.basic("wrong"))
        self.assertEqual(r.status, 401)
        self.assertEqual(r.getheader("WWW-Authenticate"), 'Basic realm="estdemo"')
        r, body = self.request(c, "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 200, body)
        self.assertEqual(self.issued(body).subject.rfc4514_string(), "CN=selftest")

    def test_digest_md5_and_sha256(self):
        for modes, alg, h in (("digest", "MD5", hashlib.md5),
                              ("digest-sha256", "SHA-256", hashlib.sha256)):
            self.mode(modes)
            c = self.conn()
            _, b64 = self.csr()
            hdr = {"Content-Type": "application/pkcs10"}
            r, _ = self.request(c, "POST", "simpleenroll", b64, hdr)
            self.assertEqual(r.status, 401)
            chal = r.getheader("WWW-Authenticate")
            self.assertTrue(chal.startswith("Digest "), chal)
            self.assertIn(f"algorithm={alg}", chal)
            nonce = re.search(r'nonce="([^"]+)"', chal).group(1)
            uri = "/.well-known/est/simpleenroll"

            def hx(s):
                return h(s.encode()).hexdigest()
            for token, want in ((self.token + "x", 401), (self.token, 200)):
                ha1 = hx(f"{self.user}:estdemo:{token}")
                resp = hx(f"{ha1}:{nonce}:00000001:c0ffee:auth:{hx('POST:' + uri)}")
                hdr["Authorization"] = (
                    f'Digest username="{self.user}", realm="estdemo", nonce="{nonce}", '
                    f'uri="{uri}", algorithm={alg}, qop=auth, nc=00000001, cnonce="c0ffee", '
                    f'response="{resp}"')
                r, body = self.request(c, "POST", "simpleenroll", b64, hdr)
                self.assertEqual(r.status, want, body)
            # Basic is not accepted in Digest mode
            r, _ = self.request(c, "POST", "simpleenroll", b64, self.basic())
            self.assertEqual(r.status, 401)
        # a forged nonce is refused
        self.assertFalse(est_ca.Service.nonce_ok(type("S", (), {"nonce_key": b"k"})(),
                                                 base64.b64encode(b"1:00").decode()))

    def test_pop_binds_to_tls_unique(self):
        self.mode("pop")
        r, body = self.request(self.conn(), "GET", "csrattrs")
        self.assertIn(est_ca.der_oid("1.2.840.113549.1.9.7"), base64.b64decode(body))
        c = self.conn(TLS12)
        self.request(c, "GET", "csrattrs")  # the connection exists: tls-unique is known
        unique = base64.b64encode(c.sock.get_channel_binding("tls-unique")).decode()
        cases = ((None, 401, b"Proof of Possession required"),
                 ("bm90IGl0", 401, b"Proof of Possession Mismatch"), (unique, 200, b""))
        for challenge, want, text in cases:
            _, b64 = self.csr(challenge=challenge)
            r, body = self.request(c, "POST", "simpleenroll", b64, self.basic())
            self.assertEqual(r.status, want, body)
            self.assertIn(text, body)
        # TLS 1.3 has no tls-unique
        c = self.conn(TLS13)
        self.request(c, "GET", "csrattrs")
        _, b64 = self.csr(challenge="AAAA")
        r, body = self.request(c, "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 401)
        self.assertIn(b"needs TLS 1.2", body)

    def test_csrattrs_libest_bytes_and_strictness(self):
        self.mode("csrattrs-libest")
        c = self.conn()
        r, body = self.request(c, "GET", "csrattrs")
        self.assertEqual(body, b"MCYGBysGAQEBARYGCSqGSIb3DQEJAQYFK4EEACIGCWCGSAFlAwQCAg==\0")
        _, b64 = self.csr()
        r, body = self.request(c, "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 400)
        _, b64 = self.csr(ec.SECP384R1(), hashes.SHA384())
        r, body = self.request(c, "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 200, body)
        self.assertIsInstance(self.issued(body).public_key().curve, ec.SECP384R1)

    def test_handshakes_are_counted_per_connection(self):
        before = self.handshakes() if os.path.exists(os.path.join(self.d, "stats.json")) else 0
        c = self.conn()
        for op in ("cacerts", "csrattrs", "cacerts"):
            self.assertEqual(self.request(c, "GET", op)[0].status, 200)
        self.assertEqual(self.handshakes() - before, 1)
        self.request(self.conn(), "GET", "cacerts")
        self.assertEqual(self.handshakes() - before, 2)

    def test_reenroll_needs_our_certificate_and_revoke_lists_it(self):
        key, b64 = self.csr()
        r, body = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic())
        cert = self.issued(body)
        cp = os.path.join(self.tmp.name, "c.pem")
        kp = os.path.join(self.tmp.name, "k.pem")
        with open(cp, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        r, _ = self.request(self.conn(), "POST", "simplereenroll", b64,
                            {"Content-Type": "application/pkcs10"})
        self.assertEqual(r.status, 403)
        r, body = self.request(self.conn(cert=(cp, kp)), "POST", "simplereenroll", b64,
                               {"Content-Type": "application/pkcs10"})
        self.assertEqual(r.status, 200, body)
        run_ca("revoke", "--dir", self.d, "--cert", cp)
        with open(os.path.join(self.d, "crl.der"), "rb") as f:
            crl = x509.load_der_x509_crl(f.read())
        self.assertIsNotNone(crl.get_revoked_certificate_by_serial_number(cert.serial_number))
        r, _ = self.request(self.conn(cert=(cp, kp)), "POST", "simplereenroll", b64,
                            {"Content-Type": "application/pkcs10"})
        self.assertEqual(r.status, 403)

    def test_manual_approval_issues_the_kept_csr(self):
        self.mode("manual")
        with open(os.path.join(self.d, "retry-after"), "w") as f:
            f.write("7\n")
        key, b64 = self.csr()
        # libest's shape: 202, Retry-After, no Content-Length, no body, then the close
        r, body = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic())
        self.assertEqual((r.status, r.getheader("Retry-After"), body), (202, "7", b""))
        self.assertIsNone(r.getheader("Content-Length"))
        r, body = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 202, "issued before approval")
        listed = run_ca("pending", "--dir", self.d).stdout.split("\n")
        self.assertEqual(len([x for x in listed if x.endswith("CN=selftest")]), 1, listed)
        self.assertEqual(run_ca("approve", "--dir", self.d).returncode, 0)
        # another CSR is not the approved one
        _, other = self.csr()
        r, _ = self.request(self.conn(), "POST", "simpleenroll", other, self.basic())
        self.assertEqual(r.status, 202)
        r, body = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 200, body)
        self.assertEqual(self.issued(body).public_key().public_numbers(),
                         key.public_key().public_numbers())
        # the approval is used up: the same CSR waits again
        r, _ = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic())
        self.assertEqual(r.status, 202)
        self.assertEqual(run_ca("approve", "--dir", self.d, "--id", "nosuch",
                                check=False).returncode, 1)
        os.unlink(os.path.join(self.d, "retry-after"))

    def test_no_auth_mode_enrolls_without_credentials(self):
        _, b64 = self.csr()
        r, _ = self.request(self.conn(), "POST", "simpleenroll", b64,
                            {"Content-Type": "application/pkcs10"})
        self.assertEqual(r.status, 401)
        self.mode("no-auth")
        r, body = self.request(self.conn(), "POST", "simpleenroll", b64,
                               {"Content-Type": "application/pkcs10"})
        self.assertEqual(r.status, 200, body)

    def test_token_never_logged(self):
        self.mode("digest")
        self.request(self.conn(), "POST", "simpleenroll", b"x", self.basic())
        self.log.flush()
        self.log.seek(0)
        self.assertNotIn(self.token, self.log.read())

    def test_unknown_mode_is_refused(self):
        r = run_ca("serve", "--dir", self.d, "--listen", "127.0.0.1:0", "--mode", "nope",
                   check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown mode", r.stderr)
        # the test-only faults live in the wrapper, not in the demo CA
        r = run_ca("serve", "--dir", self.d, "--listen", "127.0.0.1:0", "--mode", "fail-500",
                   check=False)
        self.assertIn("unknown mode", r.stderr)

    def test_fault_modes_of_the_wrapper(self):
        _, b64 = self.csr()
        for modes, op, want, check in (
                ("fail-500", "simpleenroll", 500, lambda r, b: b"fail-500" in b),
                ("garbage", "simpleenroll", 200, lambda r, b: b"not base64" in b),
                ("wrong-content-type", "simpleenroll", 200,
                 lambda r, b: r.getheader("Content-Type") == "text/html"),
                ("cacerts-garbage", "cacerts", 200, lambda r, b: b"not pkcs7" in b)):
            self.mode(modes)
            method = "GET" if op == "cacerts" else "POST"
            r, body = self.request(self.conn(), method, op, b64 if method == "POST" else None,
                                   self.basic() if method == "POST" else None)
            self.assertEqual(r.status, want, modes)
            self.assertTrue(check(r, body), modes)
        self.mode("no-basic-challenge")
        r, _ = self.request(self.conn(), "POST", "simpleenroll", b64, self.basic("wrong"))
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.getheader("WWW-Authenticate"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
