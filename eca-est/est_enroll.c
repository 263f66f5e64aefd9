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

#define B64_LINE     64
#define CSRATTRS_MAX ((size_t)64 << 10)

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

static void
add_oid(char (*list)[EST_OID_MAX], size_t *n, const ASN1_OBJECT *obj)
{
    if (*n >= EST_CSRATTRS_MAX || obj == NULL)
        return;
    if (OBJ_obj2txt(list[*n], EST_OID_MAX, obj, 1) > 0)
        (*n)++;
}

/* An ASN1_TYPE holding a constructed value: its full encoding as a SEQUENCE/SET of ANY. */
static STACK_OF(ASN1_TYPE) * inner(const ASN1_TYPE *t, int set)
{
    const unsigned char *p;
    long n;

    if (t->type != (set ? V_ASN1_SET : V_ASN1_SEQUENCE))
        return NULL;
    p = ASN1_STRING_get0_data(t->value.sequence);
    n = ASN1_STRING_length(t->value.sequence);
    return set ? d2i_ASN1_SET_ANY(NULL, &p, n) : d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
}

/* extensionRequest values: bare OIDs (the RFC 7030 §4.5.2 example) or real Extensions. */
static void
ext_request(const ASN1_TYPE *v, struct est_csrattrs *out)
{
    STACK_OF(ASN1_TYPE) * exts, *ext;

    if (v->type == V_ASN1_OBJECT) {
        add_oid(out->exts, &out->nexts, v->value.object);
        return;
    }
    if ((exts = inner(v, 0)) == NULL)
        return;
    for (int i = 0; i < sk_ASN1_TYPE_num(exts); i++) {
        const ASN1_TYPE *e = sk_ASN1_TYPE_value(exts, i);

        if (e->type == V_ASN1_OBJECT) {
            add_oid(out->exts, &out->nexts, e->value.object);
        } else if ((ext = inner(e, 0)) != NULL) {
            if (sk_ASN1_TYPE_num(ext) > 0 && sk_ASN1_TYPE_value(ext, 0)->type == V_ASN1_OBJECT)
                add_oid(out->exts, &out->nexts, sk_ASN1_TYPE_value(ext, 0)->value.object);
            sk_ASN1_TYPE_pop_free(ext, ASN1_TYPE_free);
        }
    }
    sk_ASN1_TYPE_pop_free(exts, ASN1_TYPE_free);
}

/* Attribute ::= SEQUENCE { type OID, values SET OF ANY } (RFC 7030 §4.5.2). */
static int
attribute(const ASN1_TYPE *t, struct est_csrattrs *out)
{
    STACK_OF(ASN1_TYPE) *seq = inner(t, 0), *vals = NULL;
    const ASN1_TYPE *type;
    int nid, ok = 0;

    if (seq == NULL || sk_ASN1_TYPE_num(seq) != 2 ||
        (type = sk_ASN1_TYPE_value(seq, 0))->type != V_ASN1_OBJECT ||
        (vals = inner(sk_ASN1_TYPE_value(seq, 1), 1)) == NULL)
        goto out;
    ok = 1;
    add_oid(out->attrs, &out->nattrs, type->value.object);
    nid = OBJ_obj2nid(type->value.object);
    for (int i = 0; i < sk_ASN1_TYPE_num(vals); i++) {
        const ASN1_TYPE *v = sk_ASN1_TYPE_value(vals, i);

        if (nid == NID_ext_req)
            ext_request(v, out);
        else if (nid == NID_X9_62_id_ecPublicKey && v->type == V_ASN1_OBJECT)
            snprintf(out->ec_curve, sizeof out->ec_curve, "%s",
                     OBJ_nid2sn(OBJ_obj2nid(v->value.object)));
    }
    if (nid == NID_pkcs9_challengePassword)
        out->challenge_password = 1;
out:
    sk_ASN1_TYPE_pop_free(vals, ASN1_TYPE_free);
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return ok;
}

static enum eca_rc
csrattrs_der(const unsigned char *der, size_t len, struct est_csrattrs *out, struct eca_err *err)
{
    const unsigned char *p = der;
    STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
    enum eca_rc rc = ECA_OK;

    if (seq == NULL || (size_t)(p - der) != len) {
        rc = eca_err_ssl(err, ECA_EPARSE, "csrattrs: not a DER SEQUENCE of attributes or OIDs");
        goto out;
    }
    for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
        const ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);

        if (t->type == V_ASN1_OBJECT) {
            add_oid(out->oids, &out->noids, t->value.object);
            if (OBJ_obj2nid(t->value.object) == NID_pkcs9_challengePassword)
                out->challenge_password = 1;
        } else if (!attribute(t, out)) {
            rc = eca_err_set(err, ECA_EPARSE, "csrattrs[%d]: neither an OID nor an Attribute", i);
            goto out;
        }
    }
    for (size_t i = 0; i < out->nexts; i++)
        if (strcmp(out->exts[i], "2.5.29.17") == 0)
            out->wants_san = 1;
out:
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    ERR_clear_error();
    return rc;
}

enum eca_rc
est_csrattrs_parse_body(const void *body, size_t len, struct est_csrattrs *out, struct eca_err *err)
{
    const unsigned char *b = body;
    struct est_csrattrs tmp;
    struct eca_buf der;
    enum eca_rc rc = ECA_OK;

    memset(&tmp, 0, sizeof tmp);
    eca_buf_init(&der, CSRATTRS_MAX);
    /* Some servers end the body with a NUL or a newline; neither is data. */
    while (len > 0 && (b[len - 1] == '\0' || b[len - 1] == '\n' || b[len - 1] == '\r' ||
                       b[len - 1] == ' ' || b[len - 1] == '\t'))
        len--;
    if (len > CSRATTRS_MAX) {
        rc = eca_err_set(err, ECA_ETOOBIG, "csrattrs: %zu bytes is over the cap", len);
        goto out;
    }
    if (len > 0 && b[0] == 0x30 && csrattrs_der(b, len, &tmp, NULL) == ECA_OK)
        goto done;
    memset(&tmp, 0, sizeof tmp);
    if (len > 0 && (rc = eca_b64_decode(body, len, &der, err)) != ECA_OK) {
        eca_err_prefix(err, "csrattrs: body is neither DER nor base64: ");
        rc = ECA_EPARSE;
        goto out;
    }
    if (der.len > 0 && (rc = csrattrs_der(der.data, der.len, &tmp, err)) != ECA_OK)
        goto out;
done:
    *out = tmp;
out:
    eca_buf_free(&der);
    return rc;
}

enum eca_rc
est_csrattrs_parse(const struct eca_http_resp *resp, struct est_csrattrs *out, struct eca_err *err)
{
    char snip[160];

    /* RFC 7030 §4.5.2: 204 or 404 when the server has no attributes to ask for. */
    if (resp->status == 204 || resp->status == 404) {
        memset(out, 0, sizeof *out);
        return ECA_OK;
    }
    if (resp->status != 200) {
        est_body_snippet(resp, snip, sizeof snip);
        return eca_err_set(err, ECA_ESERVER, "csrattrs: server answered HTTP %ld%s%s", resp->status,
                           snip[0] ? ": " : "", snip);
    }
    return est_csrattrs_parse_body(resp->body.data, resp->body.len, out, err);
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
