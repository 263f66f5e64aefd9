/* SPDX-License-Identifier: MIT */
/* EST enrollment, pure: request bodies, /csrattrs, and what an enrollment answer means (RFC 7030
 * §4.2, §4.5). */
#ifndef EST_ENROLL_H
#define EST_ENROLL_H

#include <stddef.h>
#include <time.h>

#include "eca_buf.h"
#include "eca_err.h"
#include "eca_http.h"
#include "eca_key.h"
#include "eca_x509.h"

#define EST_PKCS10_TYPE "application/pkcs10"
/* RFC 7030 §4.2.1 names it; RFC 8951 §3 says it carries no meaning for HTTP: sent for old servers.
 */
#define EST_CTE_HEADER "Content-Transfer-Encoding: base64"

#define EST_CSRATTRS_MAX 32
#define EST_OID_MAX      64

/* What a server asked for in /csrattrs, as dotted OIDs. */
struct est_csrattrs {
    size_t noids; /* bare OIDs (e.g. a signature algorithm) */
    char oids[EST_CSRATTRS_MAX][EST_OID_MAX];
    size_t nattrs; /* attribute types */
    char attrs[EST_CSRATTRS_MAX][EST_OID_MAX];
    size_t nexts; /* extensions named in extensionRequest */
    char exts[EST_CSRATTRS_MAX][EST_OID_MAX];
    int challenge_password;     /* asked for; ignored (RFC 7030 §3.5: TLS unique) */
    char ec_curve[EST_OID_MAX]; /* curve short name from an ecPublicKey attribute */
    int wants_san;              /* subjectAltName among the requested extensions */
};

/* Append the simpleenroll/simplereenroll body: base64 of the DER CSR, lines of 64 columns. */
enum eca_rc est_enroll_build_body(const void *csr_der, size_t len, struct eca_buf *out,
                                  struct eca_err *err);

/*
 * Parse a CsrAttrs body (base64 of DER; a trailing NUL and whitespace tolerated; empty is
 * an empty set). Entries beyond EST_CSRATTRS_MAX are dropped. Garbage: ECA_EPARSE.
 */
enum eca_rc est_csrattrs_parse_body(const void *body, size_t len, struct est_csrattrs *out,
                                    struct eca_err *err);

/* A /csrattrs answer: 204 and 404 mean "nothing requested" (ECA_OK, empty set). */
enum eca_rc est_csrattrs_parse(const struct eca_http_resp *resp, struct est_csrattrs *out,
                               struct eca_err *err);

/*
 * Map an enrollment answer (`what`: "simpleenroll" or "simplereenroll"): 200: *certs gets
 * the certificates; 202: ECA_EAGAIN with err->retry_after from Retry-After (at `now`; -1
 * when absent); 401/403: ECA_EAUTH naming what to fix; else ECA_ESERVER naming the status
 * and a sanitised excerpt of the body. err->retry_after is set on 503 with Retry-After.
 */
enum eca_rc est_enroll_parse_response(const char *what, const struct eca_http_resp *resp,
                                      time_t now, struct eca_chain **certs, struct eca_err *err);

/*
 * The full chain for key: the issued certificate whose public key is key's, then its
 * issuers found in `issued` or `cacerts` (either may be NULL), up to but excluding a
 * self-signed root. No matching certificate: ECA_EPROTO.
 */
enum eca_rc est_enroll_full_chain(const struct eca_chain *issued, const struct eca_chain *cacerts,
                                  const struct eca_key *key, struct eca_chain **out,
                                  struct eca_err *err);

#endif
