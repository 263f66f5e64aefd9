/* SPDX-License-Identifier: MIT */
/* Certificate revocation lists, the pure parts: parse, verify, freshness, lookup, where to fetch.
 */
#ifndef ECA_CRL_H
#define ECA_CRL_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "eca_err.h"
#include "eca_x509.h"

struct eca_crl;

/* Parse a CRL, PEM ("X509 CRL" block) or DER. On success *out is new (eca_crl_free). */
enum eca_rc eca_crl_parse(const void *data, size_t len, struct eca_crl **out, struct eca_err *err);

/*
 * Check the CRL's signature with issuer's public key and that issuer's subject is the
 * CRL's issuer name. ECA_ECRYPTO "CRL signature does not verify", ECA_EPROTO on a name
 * mismatch.
 */
enum eca_rc eca_crl_verify(const struct eca_crl *crl, X509 *issuer, struct eca_err *err);

/*
 * Verify against the first certificate of candidates whose subject names the CRL's
 * issuer (a CA bundle, in any order). ECA_ENOTFOUND when none does.
 */
enum eca_rc eca_crl_verify_any(const struct eca_crl *crl, const struct eca_chain *candidates,
                               struct eca_err *err);

/*
 * Fresh at `now`: thisUpdate is not in the future (60 s skew allowed), nextUpdate (when
 * present) has not passed, and, when max_age_s > 0, thisUpdate is at most max_age_s old.
 * Stale: ECA_EPROTO naming the date.
 */
enum eca_rc eca_crl_check_fresh(const struct eca_crl *crl, time_t now, long max_age_s,
                                struct eca_err *err);

/* 1 if the certificate's serial is listed (the caller checks that the CRL is its issuer's). */
int eca_crl_is_revoked(const struct eca_crl *crl, X509 *cert);
/* 1 if the serial (hex, any case, optional "0x" and ':' separators) is listed. */
int eca_crl_is_serial_revoked(const struct eca_crl *crl, const char *serial_hex);

time_t eca_crl_this_update(const struct eca_crl *crl);
/* 0 when the CRL has no nextUpdate. */
time_t eca_crl_next_update(const struct eca_crl *crl);
/* Number of revoked entries. */
size_t eca_crl_count(const struct eca_crl *crl);

/*
 * First http:// or https:// URI of the certificate's CRL distribution points
 * (RFC 5280 §4.2.1.13) into out. ECA_ENOTFOUND when it has none.
 */
enum eca_rc eca_crl_dp_url(X509 *cert, char *out, size_t outlen, struct eca_err *err);

void eca_crl_free(struct eca_crl *crl);

#endif
