/* SPDX-License-Identifier: MIT */
/* EST certs-only responses (RFC 7030 §4.1.3, §4.2.3; RFC 8951 §3): /cacerts and enrollment answers.
 */
#include "est_cacerts.h"

#include <string.h>
#include <strings.h>

#include <openssl/pkcs7.h>

#include "eca_b64.h"

#define DER_MAX ((size_t)1 << 20)

/* A DER PKCS#7 whose encoding covers the whole input, or NULL. */
static PKCS7 *
p7_from_der(const unsigned char *p, size_t len)
{
    const unsigned char *q = p;
    PKCS7 *p7;

    if (len < 2 || len > DER_MAX || p[0] != 0x30)
        return NULL;
    p7 = d2i_PKCS7(NULL, &q, (long)len);
    if (p7 != NULL && (size_t)(q - p) != len) {
        PKCS7_free(p7);
        p7 = NULL;
    }
    return p7;
}

/* Narrow [*s, *s+*n) to the inside of a "-----BEGIN ...-----" armour, if there is one. */
static void
strip_armour(const char **s, size_t *n)
{
    const char *begin, *body, *end;

    if (*n < 11 || memcmp(*s, "-----BEGIN", 10) != 0)
        return;
    begin = *s;
    if ((body = memchr(begin, '\n', *n)) == NULL)
        return;
    body++;
    for (end = body; end + 8 <= begin + *n; end++)
        if (memcmp(end, "-----END", 8) == 0)
            break;
    if (end + 8 > begin + *n)
        return;
    *s = body;
    *n = (size_t)(end - body);
}

static enum eca_rc
decode_body(const char *what, const unsigned char *body, size_t len, PKCS7 **out,
            struct eca_err *err)
{
    const char *s = (const char *)body;
    struct eca_buf der;
    enum eca_rc rc = ECA_OK;

    /* RFC 8951 §3: the body is base64 whatever the headers say; raw DER is a courtesy. */
    if ((*out = p7_from_der(body, len)) != NULL)
        return ECA_OK;
    while (len > 0 && body[len - 1] == '\0')
        len--;
    strip_armour(&s, &len);
    eca_buf_init(&der, DER_MAX);
    if (len == 0) {
        rc = eca_err_set(err, ECA_EPARSE, "%s: empty body", what);
        goto out;
    }
    if ((rc = eca_b64_decode(s, len, &der, err)) != ECA_OK) {
        eca_err_prefix(err, "%s: body is neither DER nor base64: ", what);
        rc = ECA_EPARSE;
        goto out;
    }
    if ((*out = p7_from_der(der.data, der.len)) == NULL)
        rc = eca_err_ssl(err, ECA_EPARSE, "%s: base64 body is not a DER PKCS#7 structure", what);
out:
    eca_buf_free(&der);
    return rc;
}

static enum eca_rc
p7_certs(const char *what, PKCS7 *p7, struct eca_chain **out, struct eca_err *err)
{
    STACK_OF(X509) *certs = NULL;

    if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
        certs = p7->d.sign->cert;
    if (sk_X509_num(certs) <= 0)
        return eca_err_set(err, ECA_EPROTO, "%s: PKCS#7 holds no certificate", what);
    return eca_x509_chain_from_certs(NULL, certs, out, err);
}

enum eca_rc
est_certs_parse_body(const char *what, const void *body, size_t len, struct eca_chain **out,
                     struct eca_err *err)
{
    PKCS7 *p7 = NULL;
    enum eca_rc rc;

    if (body == NULL)
        return eca_err_set(err, ECA_EPARSE, "%s: empty body", what);
    if ((rc = decode_body(what, body, len, &p7, err)) != ECA_OK)
        return rc;
    rc = p7_certs(what, p7, out, err);
    PKCS7_free(p7);
    return rc;
}

enum eca_rc
est_certs_parse_resp(const char *what, const struct eca_http_resp *resp, struct eca_chain **out,
                     struct eca_err *err)
{
    char mt[128];

    /* RFC 7030 §4.1.3: application/pkcs7-mime; the smime-type parameter is optional. */
    if (eca_http_resp_media_type(resp, mt, sizeof mt) &&
        strcmp(mt, "application/pkcs7-mime") != 0 && strcmp(mt, "application/x-pkcs7-mime") != 0)
        return eca_err_set(err, ECA_EPROTO,
                           "%s: Content-Type is '%s', expected application/pkcs7-mime", what, mt);
    return est_certs_parse_body(what, resp->body.data, resp->body.len, out, err);
}

enum eca_rc
est_cacerts_parse(const struct eca_http_resp *resp, struct eca_chain **out, struct eca_err *err)
{
    char snip[160];

    if (resp->status != 200) {
        est_body_snippet(resp, snip, sizeof snip);
        return eca_err_set(err, ECA_ESERVER, "cacerts: server answered HTTP %ld%s%s", resp->status,
                           snip[0] ? ": " : "", snip);
    }
    return est_certs_parse_resp("cacerts", resp, out, err);
}

void
est_body_snippet(const struct eca_http_resp *resp, char *out, size_t max)
{
    size_t n = 0;
    int space = 0;

    if (max == 0)
        return;
    for (size_t i = 0; resp != NULL && i < resp->body.len && n + 1 < max; i++) {
        unsigned char ch = resp->body.data[i];

        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < max)
            out[n++] = ' ';
        space = 0;
        out[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
    }
    out[n] = '\0';
}
