/* SPDX-License-Identifier: MIT */
/* EST enrollment, pure: request bodies, /csrattrs, and what an enrollment answer means (RFC 7030
 * §4.2, §4.5). */
#include "est_enroll.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eca_b64.h"
#include "eca_http_auth.h"
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

/* The server's text asks for proof-of-possession (libest: "Proof of Possession Mismatch"). */
static int
mentions_pop(const char *text)
{
    static const char *const words[] = {"possession", "tls-unique", "challengepassword"};
    char low[160];
    size_t i;

    for (i = 0; i + 1 < sizeof low && text[i] != '\0'; i++)
        low[i] = (char)tolower((unsigned char)text[i]);
    low[i] = '\0';
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]) != NULL)
            return 1;
    return 0;
}

/* What a 401/403 said: "HTTP 401, challenged for Basic" and "; server says \"...\"" (or ""). */
static void
refusal_text(const struct eca_http_resp *resp, char *how, size_t howlen, char *said, size_t saidlen,
             char *snip, size_t sniplen)
{
    unsigned offered = eca_http_auth_offered(resp);
    char schemes[48];

    est_body_snippet(resp, snip, sniplen);
    snprintf(said, saidlen, "%s%s%s", snip[0] ? "; server says \"" : "", snip, snip[0] ? "\"" : "");
    if (offered != 0)
        snprintf(how, howlen, "HTTP %ld, challenged for %s", resp->status,
                 eca_http_auth_names(offered, schemes, sizeof schemes));
    else
        snprintf(how, howlen, "HTTP %ld, no challenge", resp->status);
}

/* 401/403: which scheme the server challenged for and what it said, then what to fix. */
static enum eca_rc
auth_refused(const char *what, const struct eca_http_resp *resp, struct eca_err *err)
{
    char snip[160], said[200], how[80];

    refusal_text(resp, how, sizeof how, said, sizeof said, snip, sizeof snip);
    if (mentions_pop(snip))
        return eca_err_set(err, ECA_EAUTH,
                           "%s: server wants proof-of-possession (%s)%s: the CSR must carry the "
                           "TLS connection's tls-unique as challengePassword (RFC 7030 §3.5): "
                           "set EST_POP=true (TLS 1.2 only)",
                           what, how, said);
    if (strcmp(what, "simplereenroll") == 0)
        return eca_err_set(err, ECA_EAUTH,
                           "%s: server refused the client certificate (%s)%s: the current "
                           "certificate is not accepted for re-enrollment",
                           what, how, said);
    return eca_err_set(err, ECA_EAUTH,
                       "%s: server refused the credentials (%s)%s: check "
                       "EST_USERNAME/BOOTSTRAP_TOKEN or the bootstrap certificate",
                       what, how, said);
}

void
est_enroll_no_credentials(const char *what, const struct eca_http_resp *resp, const char *gone,
                          struct eca_err *err)
{
    char snip[160], said[200], how[80];

    if (resp->status != 401 && resp->status != 403)
        return;
    refusal_text(resp, how, sizeof how, said, sizeof said, snip, sizeof snip);
    if (mentions_pop(snip))
        return;
    eca_err_set(err, ECA_EAUTH,
                "%s: server wants authentication (%s)%s, and no credential is configured for a "
                "first enrollment%s%s%s: set EST_USERNAME with BOOTSTRAP_TOKEN (or "
                "BOOTSTRAP_TOKEN_FILE), or BOOTSTRAP_CERT_PATH and BOOTSTRAP_KEY_PATH",
                what, how, said, gone ? " (the token file " : "", gone ? gone : "",
                gone ? " no longer exists)" : "");
}

void
est_enroll_pop_refused(struct eca_err *err, int conn_changed)
{
    char old[sizeof err->msg];

    if (err == NULL)
        return;
    memcpy(old, err->msg, sizeof old);
    eca_err_set(err, err->rc, "%s; the CSR carried proof-of-possession (tls-unique)%s", old,
                conn_changed ? " but the POST went over a new TLS connection (the server closed "
                               "the one the CSR was bound to)"
                             : "");
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
        if (secs >= 0)
            rc = eca_err_set(err, ECA_EAGAIN,
                             "%s: certificate pending (HTTP 202), server asked to retry in %ld s",
                             what, secs);
        else
            rc = eca_err_set(err, ECA_EAGAIN,
                             "%s: certificate pending (HTTP 202), no usable Retry-After", what);
        if (err != NULL)
            err->retry_after = secs;
        return rc;
    case 401:
    case 403:
        return auth_refused(what, resp, err);
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

enum eca_rc
est_enroll_pop_attr(const struct eca_http_conn_info *conn, struct eca_buf *out, struct eca_err *err)
{
    X509_ATTRIBUTE *at = NULL;
    ASN1_STRING *pw = NULL;
    unsigned char *der = NULL;
    struct eca_buf b64;
    enum eca_rc rc;
    int n;

    if (conn->tls_unique_len == 0)
        return eca_err_set(err, ECA_ETLS,
                           "proof-of-possession: the connection (%s) has no tls-unique",
                           conn->tls_version[0] ? conn->tls_version : "TLS version unknown");
    eca_buf_init(&b64, 0);
    /* RFC 7030 §3.5: challengePassword = base64 of tls-unique, as a PrintableString (RFC 2985
     * §5.4.1 prefers it; base64's alphabet fits it). */
    if ((rc = eca_b64_encode(conn->tls_unique, conn->tls_unique_len, &b64, err)) != ECA_OK)
        goto out;
    if ((pw = ASN1_STRING_type_new(V_ASN1_PRINTABLESTRING)) == NULL ||
        !ASN1_STRING_set(pw, b64.data, (int)b64.len) ||
        (at = X509_ATTRIBUTE_create(NID_pkcs9_challengePassword, V_ASN1_PRINTABLESTRING, pw)) ==
            NULL) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "proof-of-possession: challengePassword attribute");
        goto out;
    }
    pw = NULL; /* owned by the attribute */
    if ((n = i2d_X509_ATTRIBUTE(at, &der)) <= 0) {
        rc = eca_err_ssl(err, ECA_ENOMEM, "proof-of-possession: challengePassword attribute");
        goto out;
    }
    rc = eca_buf_append(out, der, (size_t)n, err);
out:
    OPENSSL_free(der);
    ASN1_STRING_free(pw);
    X509_ATTRIBUTE_free(at);
    eca_buf_free(&b64);
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
