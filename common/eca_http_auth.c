/* SPDX-License-Identifier: MIT */
/* HTTP authentication challenges: which schemes a 401's WWW-Authenticate offers (RFC 9110 §11). */
#include "eca_http_auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 §5.6.2) */
static int
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *
skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Past a quoted-string starting at p ('"'); an unterminated one ends the value. */
static const char *
skip_quoted(const char *p)
{
    for (p++; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
            p++;
    return *p == '"' ? p + 1 : p;
}

static unsigned
scheme_bit(const char *tok, size_t n)
{
    if (n == 5 && strncasecmp(tok, "basic", 5) == 0)
        return ECA_HTTP_AUTH_BASIC;
    if (n == 6 && strncasecmp(tok, "digest", 6) == 0)
        return ECA_HTTP_AUTH_DIGEST;
    return ECA_HTTP_AUTH_OTHER;
}

unsigned
eca_http_auth_parse(const char *value)
{
    const char *p = value, *tok;
    unsigned bits = 0;
    size_t n;

    if (value == NULL)
        return 0;
    while (*p != '\0') {
        /* Trailing blanks: stop on the terminator, never step over it. */
        if (*(p = skip_ows(p)) == '\0')
            break;
        if (*p == ',') {
            p++;
            continue;
        }
        for (tok = p; is_tchar(*p); p++)
            ;
        if ((n = (size_t)(p - tok)) == 0) {
            /* Not a token: a stray byte (or a quoted string without a name); step over it. */
            p = *p == '"' ? skip_quoted(p) : p + 1;
            continue;
        }
        p = skip_ows(p);
        if (*p == '=' && p[1] != '=') {
            /* auth-param: name = token / quoted-string */
            p = skip_ows(p + 1);
            if (*p == '"')
                p = skip_quoted(p);
            else
                while (is_tchar(*p))
                    p++;
            continue;
        }
        if (*p == '=') {
            /* the tail of a token68 ("abc==") */
            while (*p == '=')
                p++;
            continue;
        }
        bits |= scheme_bit(tok, n);
        /* A token68 may follow the scheme: it is not itself a scheme. */
        if (is_tchar(*p) || *p == '/') {
            tok = p;
            while (is_tchar(*p) || *p == '/')
                p++;
            if (*skip_ows(p) != '=') {
                while (*p == '=')
                    p++;
            } else {
                p = tok; /* it was the first auth-param's name */
            }
        }
    }
    return bits;
}

unsigned
eca_http_auth_offered(const struct eca_http_resp *resp)
{
    const char *v;
    unsigned bits = 0;

    for (size_t i = 0; (v = eca_http_resp_header_nth(resp, "WWW-Authenticate", i)) != NULL; i++)
        bits |= eca_http_auth_parse(v);
    return bits;
}

const char *
eca_http_auth_names(unsigned schemes, char *out, size_t outlen)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{ECA_HTTP_AUTH_BASIC, "Basic"},
                 {ECA_HTTP_AUTH_DIGEST, "Digest"},
                 {ECA_HTTP_AUTH_OTHER, "another scheme"}};
    size_t used = 0;

    if (outlen == 0)
        return out;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(schemes & names[i].bit))
            continue;
        int w = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", names[i].name);

        if (w < 0 || (size_t)w >= outlen - used) {
            out[used] = '\0'; /* whole names only */
            break;
        }
        used += (size_t)w;
    }
    if (used == 0)
        snprintf(out, outlen, "none");
    return out;
}
