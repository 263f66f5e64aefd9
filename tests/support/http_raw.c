/* SPDX-License-Identifier: MIT */
/* A raw HTTP/1.1 response parser (RFC 9112) for canned fixtures and fuzz targets only. */
#include "http_raw.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
is_ows(int c)
{
    return c == ' ' || c == '\t';
}

/* ---- raw responses (RFC 9112) ---- */

struct cursor {
    const char *p;
    const char *end;
    unsigned line; /* number of the next line, 1 = the first status line */
};

/*
 * Next line without its CRLF or LF terminator. Returns 1 with a terminator, 0 for a last line
 * cut by the end of input, -1 at the end of input.
 */
static int
next_line(struct cursor *c, const char **line, size_t *len)
{
    const char *nl;

    if (c->p >= c->end)
        return -1;
    *line = c->p;
    nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    c->line++;
    if (nl == NULL) {
        *len = (size_t)(c->end - c->p);
        c->p = c->end;
        return 0;
    }
    *len = (size_t)(nl - c->p);
    if (*len > 0 && (*line)[*len - 1] == '\r')
        (*len)--;
    c->p = nl + 1;
    return 1;
}

/* "HTTP/1.1 200 OK": version, three-digit code, optional reason (RFC 9112 §4). */
static enum eca_rc
parse_status(struct cursor *c, long *status, struct eca_err *err)
{
    const char *s;
    size_t n;

    if (next_line(c, &s, &n) < 0)
        return eca_err_set(err, ECA_EPARSE, "HTTP status line: empty response");
    if (n < 12 || memcmp(s, "HTTP/", 5) != 0 || !isdigit((unsigned char)s[5]) || s[6] != '.' ||
        !isdigit((unsigned char)s[7]) || s[8] != ' ' || !isdigit((unsigned char)s[9]) ||
        !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]) ||
        (n > 12 && s[12] != ' '))
        return eca_err_set(err, ECA_EPARSE,
                           "HTTP status line: expected 'HTTP/1.1 NNN reason', got '%.*s'",
                           (int)(n < 40 ? n : 40), s);
    *status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (*status < 100)
        return eca_err_set(err, ECA_EPARSE, "HTTP status line: invalid status code %ld", *status);
    for (size_t i = 12; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
            return eca_err_set(err, ECA_EPARSE, "HTTP status line: control character in reason");
    }
    return ECA_OK;
}

static int
is_tchar(int c)
{
    return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum eca_rc
check_header(const char *s, size_t n, unsigned line, struct eca_err *err)
{
    size_t colon = 0;

    /* obs-fold: a server must not send it and we do not unfold it (RFC 9112 §5.2). */
    if (is_ows(s[0]))
        return eca_err_set(err, ECA_EPARSE, "header line %u: obsolete line folding", line);
    while (colon < n && s[colon] != ':')
        colon++;
    if (colon == n)
        return eca_err_set(err, ECA_EPARSE, "header line %u: no ':' in '%.*s'", line,
                           (int)(n < 40 ? n : 40), s);
    if (colon == 0)
        return eca_err_set(err, ECA_EPARSE, "header line %u: empty field name", line);
    for (size_t i = 0; i < colon; i++) {
        if (!is_tchar((unsigned char)s[i]))
            return eca_err_set(err, ECA_EPARSE, "header line %u: invalid field name", line);
    }
    for (size_t i = colon + 1; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return eca_err_set(err, ECA_EPARSE, "header line %u: control character in value", line);
    }
    return ECA_OK;
}

/* Header lines up to the empty line; the end of input also ends them (lenient for fixtures). */
static enum eca_rc
parse_headers(struct cursor *c, struct eca_http_resp *resp, struct eca_err *err)
{
    const char *s;
    size_t n;
    enum eca_rc rc;

    while (next_line(c, &s, &n) >= 0 && n > 0) {
        if ((rc = check_header(s, n, c->line, err)) != ECA_OK)
            return rc;
        if ((rc = eca_http_resp_add_header(resp, s, n, err)) != ECA_OK)
            return rc;
    }
    return ECA_OK;
}

static enum eca_rc
append_body(struct eca_http_resp *resp, const char *p, size_t n, struct eca_err *err)
{
    if (n > resp->body.max || resp->body.len > resp->body.max - n)
        return eca_err_set(err, ECA_ETOOBIG, "HTTP response body exceeds %zu bytes",
                           resp->body.max);
    return eca_buf_append(&resp->body, p, n, err);
}

/* chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1). */
static enum eca_rc
parse_chunk_size(struct cursor *c, size_t *size, struct eca_err *err)
{
    const char *s;
    size_t n, i = 0, v = 0;

    if (next_line(c, &s, &n) <= 0)
        return eca_err_set(err, ECA_EPARSE, "chunk size: missing (truncated chunked body)");
    for (; i < n && isxdigit((unsigned char)s[i]); i++) {
        int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10;
        if (v > (SIZE_MAX - 15) / 16)
            return eca_err_set(err, ECA_EPARSE, "chunk size: too large on line %u", c->line);
        v = v * 16 + (size_t)d;
    }
    while (i < n && is_ows(s[i]))
        i++;
    if (i == 0 || (i < n && s[i] != ';'))
        return eca_err_set(err, ECA_EPARSE, "chunk size: invalid on line %u", c->line);
    *size = v;
    return ECA_OK;
}

static enum eca_rc
parse_chunked(struct cursor *c, struct eca_http_resp *resp, struct eca_err *err)
{
    const char *s;
    size_t size = 0, n;
    enum eca_rc rc;

    for (;;) {
        if ((rc = parse_chunk_size(c, &size, err)) != ECA_OK)
            return rc;
        if (size == 0)
            break;
        if (size > resp->body.max)
            return eca_err_set(err, ECA_ETOOBIG, "HTTP response body exceeds %zu bytes",
                               resp->body.max);
        if ((size_t)(c->end - c->p) < size)
            return eca_err_set(err, ECA_EPARSE,
                               "chunk data: truncated (%zu bytes announced, %zu left)", size,
                               (size_t)(c->end - c->p));
        if ((rc = append_body(resp, c->p, size, err)) != ECA_OK)
            return rc;
        c->p += size;
        if (next_line(c, &s, &n) <= 0 || n != 0)
            return eca_err_set(err, ECA_EPARSE, "chunk data: no line end after %zu bytes", size);
    }
    /* The trailer section is read and dropped; a missing final empty line is tolerated. */
    while (next_line(c, &s, &n) > 0 && n > 0)
        ;
    return ECA_OK;
}

/* Content-Length: every occurrence must be the same decimal number (RFC 9110 §8.6). */
static enum eca_rc
content_length(const struct eca_http_resp *resp, long long *out, struct eca_err *err)
{
    const char *v;
    long long len = -1;

    for (size_t i = 0; (v = eca_http_resp_header_nth(resp, "Content-Length", i)) != NULL; i++) {
        long long x = 0;
        if (*v == '\0')
            return eca_err_set(err, ECA_EPARSE, "Content-Length: empty");
        for (; *v != '\0'; v++) {
            if (!isdigit((unsigned char)*v) || x > (LLONG_MAX - 9) / 10)
                return eca_err_set(err, ECA_EPARSE, "Content-Length: not a number");
            x = x * 10 + (*v - '0');
        }
        if (len >= 0 && x != len)
            return eca_err_set(err, ECA_EPARSE, "Content-Length: conflicting values");
        len = x;
    }
    *out = len;
    return ECA_OK;
}

/* Body framing by RFC 9112 §6.3: no body, chunked, Content-Length, or the rest of the input. */
static enum eca_rc
parse_body(struct cursor *c, struct eca_http_resp *resp, struct eca_err *err)
{
    const char *te = eca_http_resp_header_nth(resp, "Transfer-Encoding", 0);
    size_t left = (size_t)(c->end - c->p);
    long long len = -1;
    enum eca_rc rc;

    if (resp->status < 200 || resp->status == 204 || resp->status == 304)
        return ECA_OK;
    if (te != NULL) {
        if (strcasecmp(te, "chunked") != 0)
            return eca_err_set(err, ECA_EPARSE, "Transfer-Encoding: '%.40s' not supported", te);
        return parse_chunked(c, resp, err);
    }
    if ((rc = content_length(resp, &len, err)) != ECA_OK)
        return rc;
    if (len < 0)
        return append_body(resp, c->p, left, err);
    if ((unsigned long long)len > resp->body.max)
        return eca_err_set(err, ECA_ETOOBIG, "HTTP response body of %lld bytes exceeds %zu bytes",
                           len, resp->body.max);
    if ((size_t)len > left)
        return eca_err_set(err, ECA_EPARSE, "body: truncated (Content-Length %lld, %zu bytes)", len,
                           left);
    /* Bytes after the body would be the next response on a connection: ignored. */
    return append_body(resp, c->p, (size_t)len, err);
}

enum eca_rc
test_http_parse_raw(const void *bytes, size_t len, struct eca_http_resp *resp, struct eca_err *err)
{
    struct cursor c = {bytes, (const char *)bytes + len, 0};
    enum eca_rc rc;

    if (bytes == NULL && len > 0)
        return eca_err_set(err, ECA_EINVAL, "HTTP response: no data");
    for (;;) {
        eca_http_resp_clear_headers(resp);
        if ((rc = parse_status(&c, &resp->status, err)) != ECA_OK)
            return rc;
        if ((rc = parse_headers(&c, resp, err)) != ECA_OK)
            return rc;
        /* Interim 1xx responses (100 Continue) precede the final one (RFC 9110 §15.2). */
        if (resp->status >= 200 || c.p >= c.end)
            break;
    }
    return parse_body(&c, resp, err);
}
