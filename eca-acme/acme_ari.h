/* SPDX-License-Identifier: MIT */
/* ACME Renewal Information (RFC 9773): certificate identifier, suggested window, chosen time. */
#ifndef ACME_ARI_H
#define ACME_ARI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"

struct acme_problem;

/*
 * Bounds on the wait before the next renewalInfo request. RFC 9773 §4.3.2 lets a client treat
 * anything under a minute as a minute; a day keeps a bogus header from silencing the CA for
 * longer than a mass revocation can wait. Six hours when the server names no time (§4.3.3, and
 * what Let's Encrypt and pebble send).
 */
#define ACME_ARI_RETRY_MIN     60L
#define ACME_ARI_RETRY_MAX     86400L
#define ACME_ARI_RETRY_DEFAULT 21600L

/* Longest certID we build: base64url of an AKI and a serial, both normally 20 bytes or less. */
#define ACME_ARI_CERT_ID_MAX 256

/*
 * The certID of a certificate (RFC 9773 §4.1): base64url(authorityKeyIdentifier keyIdentifier)
 * "." base64url(DER serial content octets), no padding, appended to out. ECA_ENOTFOUND when the
 * certificate has no AKI keyIdentifier (no ARI for it), ECA_ETOOBIG past ACME_ARI_CERT_ID_MAX.
 */
enum eca_rc acme_ari_cert_id(X509 *cert, struct eca_buf *out, struct eca_err *err);

/* The same certID from its parts: the AKI keyIdentifier and the serial's DER contents. */
enum eca_rc acme_ari_cert_id_of(const unsigned char *aki, size_t aki_len,
                                const unsigned char *serial, size_t serial_len, struct eca_buf *out,
                                struct eca_err *err);

/* A renewalInfo answer (RFC 9773 §4.2). Owned; free with acme_ari_free(). */
struct acme_ari {
    time_t start, end;     /* suggestedWindow; end >= start */
    char *explanation_url; /* NULL when absent */
    long retry_after;      /* seconds until the next request, within the bounds above */
};

/*
 * Parse a renewalInfo response (status, Content-Type, JSON, Retry-After relative to now).
 * A missing or malformed window, an end before its start, or times that are not RFC 3339 are
 * ECA_EPROTO naming the field ("renewalInfo.suggestedWindow.end: before start"); an error
 * status goes through the problem gate. On failure *out is untouched.
 */
enum eca_rc acme_ari_parse(const struct eca_http_resp *resp, time_t now, struct acme_ari **out,
                           struct eca_err *err);

/* Same over the JSON body alone (retry_after is then ACME_ARI_RETRY_DEFAULT). */
enum eca_rc acme_ari_parse_json(const void *body, size_t len, struct acme_ari **out,
                                struct eca_err *err);

void acme_ari_free(struct acme_ari *a);

/*
 * Seconds to wait before the next renewalInfo request after resp (a success or a failure):
 * its Retry-After clamped to [ACME_ARI_RETRY_MIN, ACME_ARI_RETRY_MAX], ACME_ARI_RETRY_DEFAULT
 * when absent or invalid. resp may be NULL (no answer at all).
 */
long acme_ari_retry_after(const struct eca_http_resp *resp, time_t now);

/*
 * Parse an RFC 3339 date-time ("2025-01-02T03:04:05Z", fractions and numeric offsets
 * accepted, fractions dropped) into *out. Returns 0, or -1 for anything else.
 */
int acme_ari_time_parse(const char *s, time_t *out);

/*
 * 1 if a newOrder refusal is about its "replaces" member, so the order may be sent again
 * without it: alreadyReplaced (RFC 9773 §5), or malformed/unauthorized whose detail speaks of
 * the replacement (pebble's answer when the certificate belongs to another account).
 */
int acme_ari_replaces_refused(const struct acme_problem *p);

/* The renewal time chosen in a window, persisted so that a restart keeps it. Plain data. */
struct acme_ari_choice {
    char cert_id[ACME_ARI_CERT_ID_MAX + 1]; /* "" when there is no choice */
    time_t start, end;                      /* the window it was chosen in */
    time_t at;                              /* renew at or after this time */
};

/*
 * Choose when to renew cert_id within window w (RFC 9773 §4.2): the previous choice when it was
 * made for the same certificate and window; now when the window has already started (a window
 * starting in the past means renew now); otherwise start + rnd mod (end - start + 1), uniform
 * for a uniform rnd. Pure: rnd is the caller's random source.
 */
void acme_ari_choose(const struct acme_ari *w, const char *cert_id,
                     const struct acme_ari_choice *prev, uint64_t rnd, time_t now,
                     struct acme_ari_choice *out);

/* The state file text: "eca-ari 1 <certID> <start> <end> <at>\n", appended to out. */
enum eca_rc acme_ari_choice_build(const struct acme_ari_choice *c, struct eca_buf *out,
                                  struct eca_err *err);

/* Parse the state file text; ECA_EPARSE for anything that is not one. */
enum eca_rc acme_ari_choice_parse(const void *text, size_t len, struct acme_ari_choice *out,
                                  struct eca_err *err);

#endif
