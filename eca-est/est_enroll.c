/* SPDX-License-Identifier: MIT */
/* EST enrollment, pure: request bodies, /csrattrs, and what an enrollment answer means (RFC 7030
 * §4.2, §4.5). */
#include "est_enroll.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eca_b64.h"
#include "est_cacerts.h"

#define B64_LINE 64

enum eca_rc
est_enroll_build_body(const void *csr_der, size_t len, struct eca_buf *out, struct eca_err *err)
{
    struct eca_buf b64;
    enum eca_rc rc;

    if (csr_der == NULL || len == 0)
        return eca_err_set(err, ECA_EINVAL, "enroll: empty CSR");
    eca_buf_init(&b64, 0);
    if ((rc = eca_b64_encode(csr_der, len, &b64, err)) != ECA_OK)
        goto out;
    /* RFC 7030 §4.2.1 examples break lines; RFC 8951 §3 lets servers skip whitespace. */
    for (size_t i = 0; i < b64.len; i += B64_LINE) {
        size_t n = b64.len - i < B64_LINE ? b64.len - i : B64_LINE;

        if ((rc = eca_buf_append(out, b64.data + i, n, err)) != ECA_OK ||
            (rc = eca_buf_append(out, "\n", 1, err)) != ECA_OK)
            goto out;
    }
out:
    eca_buf_free(&b64);
    return rc;
}

static enum eca_rc
auth_refused(const char *what, long status, struct eca_err *err)
{
    int re = strcmp(what, "simplereenroll") == 0;

    if (re)
        return eca_err_set(err, ECA_EAUTH,
                           "%s: server refused the client certificate (HTTP %ld): the current "
                           "certificate is not accepted for re-enrollment",
                           what, status);
    return eca_err_set(err, ECA_EAUTH,
                       "%s: server refused the credentials (HTTP %ld): check "
                       "EST_USERNAME/BOOTSTRAP_TOKEN or the bootstrap certificate",
                       what, status);
}

enum eca_rc
est_enroll_parse_response(const char *what, const struct eca_http_resp *resp, time_t now,
                          struct eca_chain **certs, struct eca_err *err)
{
    char ra[64], snip[160];
    long secs = -1;
    enum eca_rc rc;

    if (eca_http_resp_header(resp, "Retry-After", ra, sizeof ra))
        secs = eca_http_retry_after(ra, now);
    switch (resp->status) {
    case 200:
        return est_certs_parse_resp(what, resp, certs, err);
    case 202:
        /* RFC 7030 §4.2.3: accepted, not issued yet; resend the same request later. */
        rc = eca_err_set(err, ECA_EAGAIN, "%s: certificate pending (HTTP 202), retry after %ld s",
                         what, secs);
        if (err != NULL)
            err->retry_after = secs;
        return rc;
    case 401:
    case 403:
        return auth_refused(what, resp->status, err);
    default:
        break;
    }
    est_body_snippet(resp, snip, sizeof snip);
    rc = eca_err_set(err, ECA_ESERVER, "%s: server answered HTTP %ld%s%s", what, resp->status,
                     snip[0] ? ": " : "", snip);
    if (err != NULL && resp->status == 503)
        err->retry_after = secs;
    return rc;
}

static int
self_signed(X509 *x)
{
    return X509_check_issued(x, x) == X509_V_OK;
}

static X509 *
find_issuer(X509 *x, const struct eca_chain *a, const struct eca_chain *b)
{
    const struct eca_chain *pools[2] = {a, b};

    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; pools[p] != NULL && i < eca_x509_chain_count(pools[p]); i++) {
            X509 *cand = eca_x509_chain_get(pools[p], i);

            if (X509_cmp(cand, x) != 0 && X509_check_issued(cand, x) == X509_V_OK)
                return cand;
        }
    }
    return NULL;
}

enum eca_rc
est_enroll_full_chain(const struct eca_chain *issued, const struct eca_chain *cacerts,
                      const struct eca_key *key, struct eca_chain **out, struct eca_err *err)
{
    struct eca_chain *c = NULL;
    X509 *leaf = NULL, *cur, *iss;
    enum eca_rc rc;

    for (size_t i = 0; issued != NULL && leaf == NULL && i < eca_x509_chain_count(issued); i++)
        if (eca_x509_matches_key(eca_x509_chain_get(issued, i), key))
            leaf = eca_x509_chain_get(issued, i);
    if (leaf == NULL)
        return eca_err_set(err, ECA_EPROTO,
                           "enroll: no certificate in the answer matches the key we sent");
    if ((rc = eca_x509_chain_new(&c, err)) != ECA_OK ||
        (rc = eca_x509_chain_push(c, leaf, err)) != ECA_OK)
        goto out;
    /* Walk up to, but not including, a self-signed root; 8 levels is plenty. */
    for (cur = leaf; eca_x509_chain_count(c) < 8 && !self_signed(cur); cur = iss) {
        if ((iss = find_issuer(cur, issued, cacerts)) == NULL || self_signed(iss))
            break;
        if ((rc = eca_x509_chain_push(c, iss, err)) != ECA_OK)
            goto out;
    }
    *out = c;
    c = NULL;
out:
    eca_x509_chain_free(c);
    ERR_clear_error();
    return rc;
}
