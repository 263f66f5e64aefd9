/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a hard cap. */
#include "eca_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void
eca_buf_init(struct eca_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : ECA_BUF_DEFAULT_MAX;
}

/* Ensure room for n more bytes plus the trailing NUL. */
static enum eca_rc
reserve(struct eca_buf *b, size_t n, struct eca_err *err)
{
    size_t max = b->max ? b->max : ECA_BUF_DEFAULT_MAX;
    size_t need, ncap;
    unsigned char *p;

    if (n > max || b->len > max - n)
        return eca_err_set(err, ECA_ETOOBIG, "data exceeds the %zu-byte limit", max);
    need = b->len + n + 1;
    if (need <= b->cap)
        return ECA_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    /* A fresh block rather than realloc, so secrets in the old one can be cleansed. */
    p = malloc(ncap);
    if (p == NULL)
        return eca_err_set(err, ECA_ENOMEM, "out of memory (%zu bytes)", ncap);
    if (b->data != NULL) {
        memcpy(p, b->data, b->len);
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = ncap;
    return ECA_OK;
}

enum eca_rc
eca_buf_append(struct eca_buf *b, const void *p, size_t n, struct eca_err *err)
{
    enum eca_rc rc = reserve(b, n, err);

    if (rc != ECA_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ECA_OK;
}

enum eca_rc
eca_buf_puts(struct eca_buf *b, const char *s, struct eca_err *err)
{
    return eca_buf_append(b, s, strlen(s), err);
}

enum eca_rc
eca_buf_vprintf(struct eca_buf *b, struct eca_err *err, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    enum eca_rc rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return eca_err_set(err, ECA_EINVAL, "bad format string");
    rc = reserve(b, (size_t)n, err);
    if (rc != ECA_OK)
        return rc;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return ECA_OK;
}

enum eca_rc
eca_buf_printf(struct eca_buf *b, struct eca_err *err, const char *fmt, ...)
{
    va_list ap;
    enum eca_rc rc;

    va_start(ap, fmt);
    rc = eca_buf_vprintf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

const char *
eca_buf_str(const struct eca_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

char *
eca_buf_steal(struct eca_buf *b)
{
    char *p = (char *)b->data;

    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void
eca_buf_reset(struct eca_buf *b)
{
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
        b->data[0] = '\0';
    }
    b->len = 0;
}

void
eca_buf_free(struct eca_buf *b)
{
    if (b == NULL)
        return;
    if (b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
