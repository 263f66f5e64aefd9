#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An HTTPS proxy in front of pebble that adds what Debian's pebble 2.4 lacks: ARI and profiles.

What it is, and why: Debian 12 packages pebble 2.4, which has neither ACME Renewal Information
(RFC 9773) nor profiles (draft-ietf-acme-profiles). A current pebble (2.10) has both, but it is
not packaged and nothing may be downloaded from a test. This proxy sits between eca-acme and the
real pebble 2.4 and behaves as pebble 2.10 does, as far as the agent can see:

* every request is forwarded to pebble unchanged, Host header included, so pebble builds its
  URLs (directory, Location, Link) and checks each JWS "url" against the proxy's address: no
  rewriting, and every signature stays intact;
* GET /dir: the directory gains "renewalInfo" (at pebble 2.10's path,
  /draft-ietf-acme-ari-03/renewalInfo) and, when the control file names some, "meta.profiles";
* GET <renewalInfo>/<certID>: answered here (pebble 2.4 would 404), with a suggestedWindow the
  test controls ("future": a day ahead; "past": one second an hour ago, pebble 2.10's answer for
  a revoked certificate; "garbage": an end before its start; "error": 500), and Retry-After:
  21600 as pebble sends; a certID that is not base64url "." base64url gets 400 malformed;
* newOrder: the JWS payload is read (not changed: pebble 2.4 ignores unknown members) and its
  "profile" and "replaces" logged; an unknown profile gets 400 invalidProfile; with
  "already_replaced" in the control file, an order carrying "replaces" gets 409 alreadyReplaced;
  otherwise pebble's order is returned with "profile" and "replaces" echoed, as pebble 2.10 does;
* profiles with a validity: a profile given in the control file as {"description": ...,
  "validity": SECONDS} (a plain string is a description alone, the certificate pebble's) is
  issued as pebble 2.10 issues a short profile: the leaf pebble 2.4 signed is re-signed here,
  same subject, SANs, public key and extensions, notBefore = now and notAfter = now + validity
  - 1 (a 600 s profile gives notAfter = notBefore + 599 s), by a throwaway intermediate under a
  throwaway root this proxy makes at start (written to --resign-root, so a test can verify the
  chain); the download answers leaf + that intermediate. pebble 2.4's own validity is one for
  all its certificates, so short profiles are made here;
* a request without a User-Agent gets 400 malformed, as pebble 2.10 answers;
* faults of a slow CA, each applied to one request only (the next POST to an order URL,
  /my-order/..., after the control file asks for it), so a test can end a pass and watch the
  next one resume: "trickle_order": true sends pebble's answer one byte a second (a server that
  holds a connection open by trickling); "hold_order": N answers with the order's status turned
  to "processing" and Retry-After: N (a CA that asks for more time than the pass has). A fault
  is applied once per value: asking for it with another value arms it again.

Every request is logged as one JSON line (method, path, user_agent, and what was read) to --log.
The control file (--control) is JSON re-read on every request:
  {"ari": "future|past|garbage|error",
   "profiles": {"name": "description" | {"description": "...", "validity": SECONDS}} | null,
   "already_replaced": false, "trickle_order": false, "hold_order": 0}
Binds 127.0.0.1 on --port; the test that starts it kills it by PID. The standard library, and
python3-cryptography for re-signing (profiles with a validity) and the certID below.

`acme_ari_proxy.py certid CERT.pem` prints the RFC 9773 certID of a certificate, so the test
can check the one the agent sends.
"""
import argparse
import base64
import http.client
import http.server
import json
import re
import ssl
import sys
import threading
import time

ARI_PATH = "/draft-ietf-acme-ari-03/renewalInfo"
CERT_ID = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}

args = None
log_lock = threading.Lock()
replaced = set()
order_validity = {}  # order id -> validity (s) of its profile, for the profiles that have one
cert_validity = {}  # certificate path -> validity (s): downloads to re-sign
issuer = None  # (intermediate certificate, its key), made at start
faults_done = set()  # the one-shot faults already applied ("trickle_order", "hold_order")


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def control():
    try:
        with open(args.control) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def note(entry):
    with log_lock, open(args.log, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def problem(kind, detail, status):
    body = json.dumps({"type": "urn:ietf:params:acme:error:" + kind, "detail": detail,
                       "status": status}).encode()
    return status, {"Content-Type": "application/problem+json"}, body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def upstream(self, body):
        ctx = ssl.create_default_context(cafile=args.upstream_ca)
        conn = http.client.HTTPSConnection("127.0.0.1", args.upstream_port, context=ctx,
                                           timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn.request(self.command, self.path, body=body if body else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        conn.close()
        return r.status, hdrs, data

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        ua = self.headers.get("User-Agent")
        entry = {"method": self.command, "path": self.path, "user_agent": ua}
        ctl = control()
        try:
            if not ua:
                out = problem("malformed", "User-Agent header missing", 400)
                out = (out[0], list(out[1].items()), out[2])
            elif self.command == "GET" and self.path.startswith(ARI_PATH + "/"):
                out = self.renewal_info(self.path[len(ARI_PATH) + 1:], ctl, entry)
            elif self.command == "GET" and self.path == "/dir":
                out = self.directory(ctl)
            elif self.command == "POST" and self.path == "/order-plz":
                out = self.new_order(body, ctl, entry)
            elif self.command == "POST" and self.path.startswith("/my-order/"):
                out = self.order(body, ctl, entry)
                if out is None:
                    return
            elif self.command == "POST" and self.path.split("/alternate/")[0] in cert_validity:
                out = self.certificate(body, entry)
            else:
                out = self.upstream(body)
            note_certificate(out)
        except Exception as e:  # a proxy bug must show in the log, not hang the agent
            entry["proxy_error"] = repr(e)
            out = (502, [("Content-Type", "text/plain")], b"proxy error\n")
        entry["status"] = out[0]
        note(entry)
        self.send(*out)

    do_GET = do_POST = do_HEAD = handle_any

    def directory(self, ctl):
        status, hdrs, data = self.upstream(b"")
        if status != 200:
            return status, hdrs, data
        d = json.loads(data)
        d["renewalInfo"] = "https://%s%s" % (self.headers["Host"], ARI_PATH)
        if ctl.get("profiles"):
            d.setdefault("meta", {})["profiles"] = {
                k: v.get("description", k) if isinstance(v, dict) else v
                for k, v in ctl["profiles"].items()}
        return 200, [("Content-Type", "application/json; charset=utf-8")], json.dumps(d).encode()

    def renewal_info(self, cert_id, ctl, entry):
        entry["cert_id"] = cert_id
        if not CERT_ID.match(cert_id):
            out = problem("malformed", "Invalid path: certID must be keyIdentifier.serial", 400)
            return out[0], list(out[1].items()), out[2]
        mode = ctl.get("ari", "future")
        entry["ari"] = mode
        now = int(time.time())
        if mode == "error":
            return 500, [("Content-Type", "text/plain")], b"renewal info unavailable\n"
        if mode == "past":
            start, end = now - 3600, now - 3599
        elif mode == "garbage":
            start, end = now + 2 * 86400, now + 86400
        else:
            start, end = now + 86400, now + 2 * 86400
        body = {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}
        if mode == "past":
            body["explanationURL"] = "https://ca.test/incident/ari-test"
        return 200, [("Content-Type", "application/json"), ("Retry-After", "21600")], \
            json.dumps(body).encode()

    def one_shot(self, ctl, key):
        # Once per value: a test re-arms a fault by asking for it with another value.
        with log_lock:
            shot = (key, json.dumps(ctl.get(key)))
            if not ctl.get(key) or shot in faults_done:
                return False
            faults_done.add(shot)
            return True

    def order(self, body, ctl, entry):
        status, hdrs, data = self.upstream(body)
        if status == 200 and self.one_shot(ctl, "trickle_order"):
            entry["fault"] = "trickle"
            entry["status"] = status
            note(entry)
            self.trickle(status, hdrs, data)
            return None
        if status == 200 and self.one_shot(ctl, "hold_order"):
            order = json.loads(data)
            entry["fault"] = "hold"
            entry["real_status"] = order.get("status")
            order["status"] = "processing"
            hdrs = [(k, v) for k, v in hdrs if k.lower() != "retry-after"]
            hdrs.append(("Retry-After", str(int(ctl["hold_order"]))))
            return status, hdrs, json.dumps(order).encode()
        return status, hdrs, data

    def trickle(self, status, hdrs, data):
        """Headers at once, then the body a byte a second, until it is sent or the client
        hangs up (for at most 120 s)."""
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(min(len(data), 120)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
        self.close_connection = True

    def certificate(self, body, entry):
        status, hdrs, data = self.upstream(body)
        if status != 200:
            return status, hdrs, data
        validity = cert_validity[self.path.split("/alternate/")[0]]
        entry["resigned"] = validity
        # pebble's alternate chains would name its own root: the re-signed leaf has one chain.
        hdrs = [(k, v) for k, v in hdrs if not (k.lower() == "link" and "alternate" in v)]
        return status, hdrs, resign(data, validity)

    def new_order(self, body, ctl, entry):
        payload = json.loads(b64u_decode(json.loads(body)["payload"]))
        profile, repl = payload.get("profile"), payload.get("replaces")
        entry["profile"], entry["replaces"] = profile, repl
        profiles = ctl.get("profiles") or {}
        if profile is not None and profile not in profiles:
            out = problem("invalidProfile", 'profile name "%s" not recognised' % profile, 400)
            return out[0], list(out[1].items()), out[2]
        if repl is not None and (ctl.get("already_replaced") or repl in replaced):
            out = problem("alreadyReplaced", "certificate %s already has a replacement order"
                          % repl, 409)
            return out[0], list(out[1].items()), out[2]
        status, hdrs, data = self.upstream(body)
        if status != 201:
            return status, hdrs, data
        if repl is not None:
            replaced.add(repl)
        order = json.loads(data)
        validity = profile_validity(profiles.get(profile))
        if validity:
            with log_lock:
                order_validity[order_id(order)] = validity
            entry["validity"] = validity
        if profile is not None:
            order["profile"] = profile
        if repl is not None:
            order["replaces"] = repl
        return status, hdrs, json.dumps(order).encode()


def profile_validity(p):
    """The validity (s) a profile's control entry gives, or None (pebble's own)."""
    if isinstance(p, dict) and p.get("validity"):
        return int(p["validity"])
    return None


def order_id(order):
    # pebble's order, finalize and authorization URLs end in the order's id; finalize is
    # in every order object.
    return order.get("finalize", "").rstrip("/").rsplit("/", 1)[-1]


def note_certificate(out):
    """An order answer that names its certificate: a download to re-sign when its profile
    has a validity."""
    status, hdrs, data = out
    if status not in (200, 201) or not data.startswith(b"{"):
        return
    try:
        order = json.loads(data)
    except ValueError:
        return
    url = order.get("certificate") if isinstance(order, dict) else None
    with log_lock:
        validity = order_validity.get(order_id(order)) if url else None
        if validity:
            cert_validity[re.sub(r"^https://[^/]+", "", url)] = validity


def make_issuer():
    """A throwaway root and an intermediate under it (EC P-256, a day each); the root's PEM."""
    global issuer
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def ca(name, key, signer_name, signer_key):
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, signer_name)]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), critical=True)
             .add_extension(ski, critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 signer_key.public_key()), critical=False))
        return b.sign(signer_key, hashes.SHA256())

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = ca("ECA test proxy root", root_key, "ECA test proxy root", root_key)
    int_key = ec.generate_private_key(ec.SECP256R1())
    inter = ca("ECA test proxy short-profile intermediate", int_key, "ECA test proxy root",
               root_key)
    issuer = (inter, int_key)
    return root.public_bytes(serialization.Encoding.PEM)


def resign(pem, validity):
    """pebble's leaf (first of pem) re-signed by the throwaway intermediate for validity
    seconds from now; returns leaf + intermediate as PEM."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    leaf = x509.load_pem_x509_certificates(pem)[0]
    inter, key = issuer
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    b = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(inter.subject)
         .public_key(leaf.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(seconds=validity - 1)))
    for ext in leaf.extensions:
        if not isinstance(ext.value, x509.AuthorityKeyIdentifier):
            b = b.add_extension(ext.value, ext.critical)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                        critical=False)
    out = b.sign(key, hashes.SHA256())
    return out.public_bytes(serialization.Encoding.PEM) + \
        inter.public_bytes(serialization.Encoding.PEM)


def cert_id(path):
    from cryptography import x509
    with open(path, "rb") as f:
        c = x509.load_pem_x509_certificate(f.read())
    aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    n = c.serial_number
    serial = n.to_bytes((n.bit_length() + 8) // 8, "big")
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    return enc(aki) + "." + enc(serial)


def main():
    global args
    if len(sys.argv) == 3 and sys.argv[1] == "certid":
        print(cert_id(sys.argv[2]))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--upstream-ca", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--resign-root", help="where to write the root of re-signed certificates")
    args = p.parse_args()
    root = make_issuer()
    if args.resign_root:
        with open(args.resign_root, "wb") as f:
            f.write(root)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
