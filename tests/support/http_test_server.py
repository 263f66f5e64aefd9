#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Loopback HTTP(S) server for the transport tests: echo, big bodies, hangs, Basic and Digest
challenges, the TLS connection's tls-unique.

Binds 127.0.0.1 on a port picked by the kernel and writes that port to --port-file.
Stdlib only. The test that starts it kills it by PID.
"""
import argparse
import base64
import hashlib
import http.server
import os
import re
import ssl
import threading
import time

USER = "edge"
PASSWORD = "s3cret-canary-pw"
NONCE = "dGVzdC1ub25jZQ"

_seen = {}
_seen_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _send(self, status, body=b"", headers=None, length=True):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data, True
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n), False

    def _echo(self):
        body, chunked = self._read_body()
        out = self.requestline + "\n" + str(self.headers)
        out += "chunked: %s\nbody-length: %d\n" % ("yes" if chunked else "no", len(body))
        self._send(200, out.encode() + body, {"Content-Type": "text/plain"})

    def _basic(self, key):
        auth = self.headers.get("Authorization")
        good = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        state = "none" if auth is None else ("ok" if auth == good else "bad")
        with _seen_lock:
            _seen.setdefault(key, []).append(state)
            seq = ",".join(_seen[key])
        if state != "ok":
            self._send(401, seq.encode(), {"WWW-Authenticate": 'Basic realm="eca-test"'})
        else:
            self._send(200, seq.encode(), {"Content-Type": "text/plain"})

    def _digest(self, alg, key):
        """RFC 7616 with qop=auth; the body lists what each request of `key` carried."""
        auth = self.headers.get("Authorization", "")
        algorithm = "SHA-256" if alg == "sha256" else "MD5"
        state = "basic" if auth.lower().startswith("basic ") else "none"
        if auth.lower().startswith("digest "):
            p = {k.lower(): q or t for k, q, t in
                 re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]*))', auth[7:])}
            h = hashlib.sha256 if algorithm == "SHA-256" else hashlib.md5

            def hx(s):
                return h(s.encode()).hexdigest()
            ha1 = hx("%s:eca-test:%s" % (USER, PASSWORD))
            ha2 = hx("%s:%s" % (self.command, p.get("uri", "")))
            want = hx(":".join([ha1, p.get("nonce", ""), p.get("nc", ""), p.get("cnonce", ""),
                                "auth", ha2]))
            state = "ok" if (p.get("response") == want and p.get("nonce") == NONCE and
                             p.get("uri") == self.path) else "bad"
        with _seen_lock:
            _seen.setdefault(key, []).append(state)
            seq = ",".join(_seen[key])
        if state == "ok":
            return self._send(200, seq.encode(), {"Content-Type": "text/plain"})
        chal = 'Digest realm="eca-test", qop="auth", algorithm=%s, nonce="%s"' % (algorithm, NONCE)
        self._send(401, seq.encode(), {"WWW-Authenticate": chal})

    def _tls_unique(self):
        cb = self.connection.get_channel_binding("tls-unique") \
            if hasattr(self.connection, "get_channel_binding") else None
        self._send(200, base64.b64encode(cb or b"").decode().encode())

    def _client(self):
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        cn = "none"
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
        self._send(200, cn.encode())

    def _stream(self, n):
        # No Content-Length: the body runs to the end of the connection.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"y" * n)
        self.close_connection = True

    def _trickle(self):
        # A server that holds the connection by sending a byte every 0.2 s (for at most 30 s).
        self.send_response(200)
        self.send_header("Content-Length", "150")
        self.end_headers()
        try:
            for _ in range(150):
                self.wfile.write(b"t")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass
        self.close_connection = True

    def _route(self):
        p = self.path
        if p == "/hello":
            return self._send(200, b"hello", {"Content-Type": "text/plain; charset=utf-8"})
        if p == "/echo":
            return self._echo()
        if p.startswith("/big/"):
            return self._send(200, b"x" * int(p[5:]))
        if p.startswith("/stream/"):
            return self._stream(int(p[8:]))
        if p == "/hang":
            time.sleep(30)
            return None
        if p == "/trickle":
            return self._trickle()
        if p.startswith("/basic/"):
            return self._basic(p[7:])
        if p.startswith("/digest/"):
            return self._digest(*p[8:].split("/", 1))
        if p == "/tls-unique":
            return self._tls_unique()
        if p == "/bearer":
            return self._send(401, b"no", {"WWW-Authenticate": 'Bearer realm="x"'})
        if p == "/client":
            return self._client()
        if p == "/peer":
            return self._send(200, str(self.client_address[1]).encode())
        if p == "/redirect":
            return self._send(302, b"", {"Location": "/hello"})
        return self._send(404, b"not found")

    def do_GET(self):
        self._route()

    def do_HEAD(self):
        self._route()

    def do_POST(self):
        if self.path == "/echo":
            return self._echo()
        self._read_body()
        return self._route()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca", help="require a client certificate issued by this CA")
    args = ap.parse_args()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        # The handshake runs in the handler thread, so a silent client blocks no one else.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
