/* SPDX-License-Identifier: MIT */
/* EST certs-only responses (RFC 7030 §4.1.3, §4.2.3; RFC 8951 §3): /cacerts and enrollment answers.
 */
#ifndef EST_CACERTS_H
#define EST_CACERTS_H

#include <stddef.h>

#include "eca_err.h"
#include "eca_http.h"
#include "eca_x509.h"

/*
 * Decode a certs-only body: base64 of a DER PKCS#7 SignedData (whitespace anywhere, LF or
 * CRLF line breaks, trailing NULs tolerated; a PEM "PKCS7" armour is stripped), or the raw
 * DER itself. On success *out holds the certificates in the order sent. Not PKCS#7:
 * ECA_EPARSE; no certificate inside: ECA_EPROTO. `what` ("cacerts") prefixes messages.
 */
enum eca_rc est_certs_parse_body(const char *what, const void *body, size_t len,
                                 struct eca_chain **out, struct eca_err *err);

/*
 * Check a 200 response's Content-Type (application/pkcs7-mime, any smime-type parameter;
 * a missing header is tolerated) and decode its body as above. Any other type: ECA_EPROTO
 * naming it. The status is the caller's business.
 */
enum eca_rc est_certs_parse_resp(const char *what, const struct eca_http_resp *resp,
                                 struct eca_chain **out, struct eca_err *err);

/* GET /cacerts answer: status 200 required (else ECA_ESERVER naming it), then as above. */
enum eca_rc est_cacerts_parse(const struct eca_http_resp *resp, struct eca_chain **out,
                              struct eca_err *err);

/*
 * A short printable excerpt of a response body for error messages: control bytes and
 * non-ASCII shown as '.', cut at max-1 bytes. Never NULL.
 */
void est_body_snippet(const struct eca_http_resp *resp, char *out, size_t max);

#endif
