#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A canned ACME CA for faults pebble cannot produce: it signs what the CSR asks for, badly.

HTTPS on 127.0.0.1:--port (certificate and key from --tls-cert/--tls-key). Every order is
ready at once (no challenge); finalize signs the CSR's key and names with a throwaway
root -> intermediate, the validity and chain chosen by --mode:
  good     valid now for a day (the control: this one must be installed)
  expired  expired a year ago
  future   not valid before tomorrow
  badlink  leaf signed by a key other than the intermediate it names
JWS signatures are not checked: this tests the client's checks, not the server's.
"""
import argparse
import base64
import datetime
import http.server
import itertools
import json
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_nonces = itertools.count(1)
_lock = threading.Lock()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, pub, issuer, key, start, end, ca):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number()).not_valid_before(start)
         .not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(key, hashes.SHA256())


class CA:
    def __init__(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.root = cert(name("Fake ACME Root"), self.root_key.public_key(), name("Fake ACME Root"),
                         self.root_key, now - datetime.timedelta(days=800),
                         now + datetime.timedelta(days=800), True)
        self.inter = cert(name("Fake ACME Intermediate"), self.inter_key.public_key(),
                          self.root.subject, self.root_key, now - datetime.timedelta(days=800),
                          now + datetime.timedelta(days=800), True)

    def issue(self, csr, mode):
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(minutes=1), now + datetime.timedelta(days=1)
        if mode == "expired":
            start, end = now - datetime.timedelta(days=400), now - datetime.timedelta(days=365)
        elif mode == "future":
            start, end = now + datetime.timedelta(days=1), now + datetime.timedelta(days=2)
        signer = ec.generate_private_key(ec.SECP256R1()) if mode == "badlink" else self.inter_key
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        b = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.inter.subject)
             .public_key(csr.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end)
             .add_extension(x509.SubjectAlternativeName(list(san)), critical=False))
        leaf = b.sign(signer, hashes.SHA256())
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, self.inter))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def base(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def send(self, status, body=b"", ctype="application/json", location=None):
        self.send_response(status)
        with _lock:
            self.send_header("Replay-Nonce", "fakenonce%06d" % next(_nonces))
        self.send_header("Cache-Control", "no-store")
        if location:
            self.send_header("Location", self.base() + location)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def payload(self):
        jws = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        p = jws.get("payload", "")
        return json.loads(b64u_decode(p)) if p else None

    def do_HEAD(self):
        self.send(200, ctype="text/plain")

    def do_GET(self):
        if self.path == "/dir":
            b = self.base()
            d = {"newNonce": b + "/nonce", "newAccount": b + "/acct", "newOrder": b + "/order",
                 "revokeCert": b + "/revoke", "keyChange": b + "/key-change"}
            return self.send(200, json.dumps(d).encode())
        self.send(200 if self.path == "/nonce" else 404, ctype="text/plain")

    def order(self, status):
        b = self.base()
        o = {"status": status, "identifiers": self.server.idents,
             "authorizations": [b + "/authz/1"], "finalize": b + "/finalize/1"}
        if status == "valid":
            o["certificate"] = b + "/cert/1"
        return json.dumps(o).encode()

    def do_POST(self):
        p = self.payload()
        if self.path == "/acct":
            return self.send(201, b'{"status":"valid"}', location="/acct/1")
        if self.path == "/order":
            self.server.idents = p["identifiers"]
            return self.send(201, self.order("ready"), location="/order/1")
        if self.path == "/finalize/1":
            csr = x509.load_der_x509_csr(b64u_decode(p["csr"]))
            self.server.chain = self.server.ca.issue(csr, self.server.mode)
            return self.send(200, self.order("valid"), location="/order/1")
        if self.path == "/order/1":
            return self.send(200, self.order("valid"))
        if self.path == "/cert/1":
            return self.send(200, self.server.chain, ctype="application/pem-certificate-chain")
        self.send(404, b'{"type":"urn:ietf:params:acme:error:malformed"}',
                  ctype="application/problem+json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--mode", choices=["good", "expired", "future", "badlink"], required=True)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.ca, srv.mode, srv.idents, srv.chain = CA(), a.mode, [], b""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
