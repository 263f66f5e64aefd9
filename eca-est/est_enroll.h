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
#include "est_csrattrs.h"

#define EST_PKCS10_TYPE "application/pkcs10"
/* RFC 7030 §4.2.1 names it; RFC 8951 §3 says it carries no meaning for HTTP: sent for old servers.
 */
#define EST_CTE_HEADER "Content-Transfer-Encoding: base64"

/* Append the simpleenroll/simplereenroll body: base64 of the DER CSR, lines of 64 columns. */
enum eca_rc est_enroll_build_body(const void *csr_der, size_t len, struct eca_buf *out,
                                  struct eca_err *err);

/*
 * Map an enrollment answer (`what`: "simpleenroll" or "simplereenroll"): 200: *certs gets
 * the certificates; 202: ECA_EAGAIN with err->retry_after from Retry-After (at `now`; -1
 * when absent); 401/403: ECA_EAUTH naming the scheme the server challenged for (Basic,
 * Digest, proof-of-possession), its text (sanitised, capped) and what to fix; else ECA_ESERVER
 * naming the status and a sanitised excerpt of the body. err->retry_after is set on 503 with
 * Retry-After.
 */
enum eca_rc est_enroll_parse_response(const char *what, const struct eca_http_resp *resp,
                                      time_t now, struct eca_chain **certs, struct eca_err *err);

/*
 * After an ECA_EAUTH (401/403 in resp) for a first enrollment sent with no credential at all:
 * the error says what the server challenged for and what to provide; `gone` (may be NULL) is
 * a configured token file that no longer exists. A proof-of-possession refusal is left as is.
 */
void est_enroll_no_credentials(const char *what, const struct eca_http_resp *resp, const char *gone,
                               struct eca_err *err);

/* After an ECA_EAUTH for a CSR that carried tls-unique: say so, and whether the POST went
 * over another connection than the one the CSR was bound to. */
void est_enroll_pop_refused(struct eca_err *err, int conn_changed);

/*
 * The DER challengePassword Attribute proving possession over conn (RFC 7030 §3.5): base64 of
 * its tls-unique, appended to out. No tls-unique (TLS 1.3, unknown transport): ECA_ETLS.
 */
enum eca_rc est_enroll_pop_attr(const struct eca_http_conn_info *conn, struct eca_buf *out,
                                struct eca_err *err);

/*
 * The full chain for key: the issued certificate whose public key is key's, then its
 * issuers found in `issued` or `cacerts` (either may be NULL), up to but excluding a
 * self-signed root. No matching certificate: ECA_EPROTO.
 */
enum eca_rc est_enroll_full_chain(const struct eca_chain *issued, const struct eca_chain *cacerts,
                                  const struct eca_key *key, struct eca_chain **out,
                                  struct eca_err *err);

#endif
