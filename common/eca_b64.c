/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648 §4) and base64url (§5): encode, and strict decode that names the bad offset. */
#include "eca_b64.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static enum eca_rc
encode(const void *p, size_t n, const char *alpha, int pad, struct eca_buf *out,
       struct eca_err *err)
{
    const unsigned char *in = p;
    char *enc;
    size_t i, o = 0, cap;
    unsigned long v;
    enum eca_rc rc;

    if (n > ((size_t)-1 / 4) * 3 - 3)
        return eca_err_set(err, ECA_ETOOBIG, "base64: input too large");
    cap = (n + 2) / 3 * 4 + 1;
    if ((enc = malloc(cap)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "base64: out of memory");
    for (i = 0; i + 2 < n; i += 3) {
        v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        enc[o++] = alpha[v >> 18 & 63];
        enc[o++] = alpha[v >> 12 & 63];
        enc[o++] = alpha[v >> 6 & 63];
        enc[o++] = alpha[v & 63];
    }
    if (i < n) {
        v = (unsigned long)in[i] << 16 | (i + 1 < n ? (unsigned long)in[i + 1] << 8 : 0);
        enc[o++] = alpha[v >> 18 & 63];
        enc[o++] = alpha[v >> 12 & 63];
        if (i + 1 < n)
            enc[o++] = alpha[v >> 6 & 63];
        else if (pad)
            enc[o++] = '=';
        if (pad)
            enc[o++] = '=';
    }
    rc = eca_buf_append(out, enc, o, err);
    OPENSSL_clear_free(enc, cap);
    return rc;
}

enum eca_rc
eca_b64_encode(const void *p, size_t n, struct eca_buf *out, struct eca_err *err)
{
    return encode(p, n, std_alpha, 1, out, err);
}

enum eca_rc
eca_b64url_encode(const void *p, size_t n, struct eca_buf *out, struct eca_err *err)
{
    return encode(p, n, url_alpha, 0, out, err);
}

/* Value of c in alpha, or -1. */
static int
sextet(const char *alpha, unsigned char c)
{
    const char *hit;

    if (c == '\0' || (hit = strchr(alpha, c)) == NULL)
        return -1;
    return (int)(hit - alpha);
}

static int
is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Check the end state: count of data sextets, padding seen; last_off for messages. */
static enum eca_rc
check_tail(const char *what, size_t nd, size_t npad, unsigned long acc, size_t n,
           struct eca_err *err)
{
    size_t rem = nd % 4;

    if (rem == 1)
        return eca_err_set(err, ECA_EPARSE, "%s: truncated input at offset %zu", what, n);
    if (npad > 0 && npad != (4 - rem) % 4)
        return eca_err_set(err, ECA_EPARSE, "%s: wrong padding at offset %zu", what, n);
    /* RFC 4648 §3.5: the unused low bits of the last sextet must be zero (canonical form). */
    if ((rem == 2 && (acc & 0x0f) != 0) || (rem == 3 && (acc & 0x03) != 0))
        return eca_err_set(err, ECA_EPARSE, "%s: non-canonical final character at offset %zu", what,
                           n);
    return ECA_OK;
}

static enum eca_rc
decode(const char *what, const char *s, size_t n, const char *alpha, int ws, struct eca_buf *out,
       struct eca_err *err)
{
    const unsigned char *in = (const unsigned char *)s;
    unsigned char *dec = NULL;
    unsigned long acc = 0;
    size_t i, o = 0, nd = 0, npad = 0, cap = n / 4 * 3 + 3;
    enum eca_rc rc = ECA_OK;
    int v;

    if ((dec = malloc(cap)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", what);
    for (i = 0; i < n && rc == ECA_OK; i++) {
        if (ws && is_ws(in[i]))
            continue;
        if (in[i] == '=' && nd % 4 >= 2 && npad < 4 - nd % 4) {
            npad++;
            continue;
        }
        if (npad > 0 || (v = sextet(alpha, in[i])) < 0) {
            rc = eca_err_set(err, ECA_EPARSE, "%s: invalid character 0x%02x at offset %zu", what,
                             in[i], i);
            break;
        }
        acc = acc << 6 | (unsigned long)v;
        if (++nd % 4 == 0) {
            dec[o++] = (unsigned char)(acc >> 16);
            dec[o++] = (unsigned char)(acc >> 8);
            dec[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (rc == ECA_OK)
        rc = check_tail(what, nd, npad, acc, n, err);
    if (rc == ECA_OK && nd % 4 >= 2)
        dec[o++] = (unsigned char)(acc >> (nd % 4 == 2 ? 4 : 10));
    if (rc == ECA_OK && nd % 4 == 3)
        dec[o++] = (unsigned char)(acc >> 2);
    if (rc == ECA_OK)
        rc = eca_buf_append(out, dec, o, err);
    OPENSSL_clear_free(dec, cap);
    return rc;
}

enum eca_rc
eca_b64_decode(const char *s, size_t n, struct eca_buf *out, struct eca_err *err)
{
    return decode("base64", s, n, std_alpha, 1, out, err);
}

enum eca_rc
eca_b64url_decode(const char *s, size_t n, struct eca_buf *out, struct eca_err *err)
{
    return decode("base64url", s, n, url_alpha, 0, out, err);
}
