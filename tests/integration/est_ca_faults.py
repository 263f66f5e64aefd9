#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The demo EST CA (target-demo/est-ca/est_ca.py) with the fault modes only tests need: servers
that break in ways no real EST server should. Same command line as est_ca.py; lib_estca.sh
runs this. EST_CA_SLOW_SECONDS sets the delay of `slow` (default 6)."""

import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into target-demo/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "target-demo", "est-ca"))
import est_ca  # noqa: E402

PKCS7 = "application/pkcs7-mime; smime-type=certs-only"


def slow(h):
    time.sleep(float(os.environ.get("EST_CA_SLOW_SECONDS", "6")))
    return False  # then answer as usual (other connections are served meanwhile)


def fail_500(h):
    h.text(500, "internal error (fail-500 mode)")
    return True


def garbage(h):
    h.reply(200, b"this is !!not base64 PKCS#7\n", PKCS7)
    return True


def wrong_content_type(h, cert):
    h.b64_reply(200, est_ca.certs_only([cert, h.svc.ca.issuing]), "text/html")
    return True


def cacerts_garbage(h):
    h.reply(200, b"<html>not pkcs7</html>\n", "application/pkcs7-mime")
    return True


# slow first: it delays, then fail-500 or garbage may still answer
est_ca.add_mode("slow", "enroll/reenroll answer after EST_CA_SLOW_SECONDS (default 6)",
                "enroll", slow)
est_ca.add_mode("fail-500", "enroll/reenroll answer 500", "enroll", fail_500)
est_ca.add_mode("garbage", "enroll/reenroll answer 200 application/pkcs7-mime with a "
                "non-PKCS#7 body", "enroll", garbage)
est_ca.add_mode("wrong-content-type", "enroll/reenroll answer 200 with Content-Type text/html",
                "issued", wrong_content_type)
est_ca.add_mode("no-basic-challenge", "401 answers carry no WWW-Authenticate header",
                "challenge", lambda h: {})
est_ca.add_mode("cacerts-garbage", "cacerts answers 200 with a non-PKCS#7 body", "cacerts",
                cacerts_garbage)

if __name__ == "__main__":
    sys.exit(est_ca.main())
